const express = require("express");
const products = require("./routes/products");

const app = express();
app.use(express.json());
app.use("/api/products", products);

app.get("/", (req, res) => res.json({ service: "catalog" }));
app.get("/healthz", (req, res) => res.json({ status: "ok" }));
app.get("/ready", (req, res) => res.json({ ready: true }));

module.exports = app;
