'use strict';

const express = require('express');
const morgan = require('morgan');
const orders = require('./routes/orders');

const app = express();
app.use(express.json());
app.use(morgan(process.env.LOG_FORMAT || 'tiny'));

app.get('/health', (req, res) => res.json({ status: 'ok' }));
app.use('/orders', orders);

module.exports = app;
