const request = require("supertest");
const app = require("../src/app");

test("lists products", async () => {
  const response = await request(app).get("/api/products");
  expect(response.status).toBe(200);
  expect(response.body).toHaveLength(50);
});
