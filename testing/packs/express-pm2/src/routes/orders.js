'use strict';

const express = require('express');

const router = express.Router();
const orders = new Map();
let nextId = 1;

router.get('/', (req, res) => {
  res.json([...orders.values()]);
});

router.get('/:id', (req, res) => {
  const order = orders.get(Number(req.params.id));
  if (!order) {
    return res.status(404).json({ error: 'not found' });
  }
  return res.json(order);
});

router.post('/', (req, res) => {
  const { item, quantity } = req.body || {};
  if (typeof item !== 'string' || !Number.isInteger(quantity) || quantity < 1) {
    return res.status(400).json({ error: 'item and a positive quantity are required' });
  }
  const order = { id: nextId++, item, quantity, createdAt: new Date().toISOString() };
  orders.set(order.id, order);
  return res.status(201).json(order);
});

module.exports = router;
