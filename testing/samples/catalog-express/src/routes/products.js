const express = require("express");

const router = express.Router();
const PRODUCTS = Array.from({ length: 500 }, (_, i) => ({
  id: i + 1,
  name: `product ${i + 1}`,
  price: Math.round((i + 1) * 137) / 100,
}));

router.get("/", (req, res) => {
  // Sorted on every request: the kind of work a cache would save.
  const sorted = [...PRODUCTS].sort((a, b) => b.price - a.price);
  res.json(sorted.slice(0, 50));
});

router.get("/:id", (req, res) => {
  const product = PRODUCTS[Number(req.params.id) - 1];
  if (!product) return res.status(404).json({ error: "no such product" });
  return res.json(product);
});

router.post("/", (req, res) => {
  res.status(201).json({ ...req.body, id: PRODUCTS.length + 1 });
});

module.exports = router;
