/**
 * Ceiling (d): a bare express JSON endpoint, run as its own process like the services. Prints its
 * port on stdout once listening.
 */
import express from 'express';

const app = express();
app.use(express.json());
app.post('/orders', (req, res) => {
  res.status(202).json({ id: '00000000-0000-4000-8000-000000000000', status: 'pending', received: Object.keys(req.body as object).length });
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.stdout.write(`${address.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
