// The peer: the stack of Auth0's official TypeScript/Express Hello World API sample
// (Express + helmet + cors + nocache + express-oauth2-jwt-bearer), as plain JS so the bench does not
// pay for a compile step. Same routes, messages and tokens as the API under test.
//
// Runs without NODE_ENV=production: express-oauth2-jwt-bearer refuses an http:// issuer in
// production, and the bench's dev tenant is plain http on loopback. For JSON routes Express's
// production mode only changes error-page verbosity (views are not used), so throughput is unaffected.
import cors from 'cors';
import express from 'express';
import { auth, claimCheck } from 'express-oauth2-jwt-bearer';
import helmet from 'helmet';
import nocache from 'nocache';

const { PORT = '0', HOST = '127.0.0.1', ISSUER_BASE_URL, AUDIENCE, CLIENT_ORIGIN_URL = 'http://localhost:4040' } = process.env;
if (!ISSUER_BASE_URL || !AUDIENCE) {
  console.error('ISSUER_BASE_URL and AUDIENCE are required');
  process.exit(1);
}

// express-oauth2-jwt-bearer 1.10 checks DPoP by default (dpop.enabled true, required false, iat
// window 300 s back / 30 s ahead): Bearer for unbound tokens, DPoP proofs for bound ones, as our DPOP=allowed.
const validateAccessToken = auth({ issuerBaseURL: ISSUER_BASE_URL, audience: AUDIENCE });
// As in the sample's `checkRequiredPermissions`: every required permission must be in `permissions`.
const checkRequiredPermissions = (required) =>
  claimCheck((payload) => {
    const permissions = Array.isArray(payload.permissions) ? payload.permissions : [];
    return required.every((permission) => permissions.includes(permission));
  });

const app = express();
app.use(express.json());
app.set('json spaces', 2);
app.use((_req, res, next) => {
  res.contentType('application/json; charset=utf-8');
  next();
});
app.use(nocache());
app.use(
  helmet({
    hsts: { maxAge: 31_536_000 },
    contentSecurityPolicy: { useDefaults: false, directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] } },
    frameguard: { action: 'deny' },
  }),
);
app.use(cors({ origin: CLIENT_ORIGIN_URL, methods: ['GET'], allowedHeaders: ['Authorization', 'Content-Type'], maxAge: 86_400 }));

const router = express.Router();
router.get('/public', (_req, res) => {
  res.status(200).json({ message: "The API doesn't require an access token to share this message." });
});
router.get('/protected', validateAccessToken, (_req, res) => {
  res.status(200).json({ message: 'The API successfully validated your access token.' });
});
router.get('/admin', validateAccessToken, checkRequiredPermissions(['read:admin-messages']), (_req, res) => {
  res.status(200).json({ message: 'The API successfully recognized you as an admin.' });
});
app.use('/api/messages', router);

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- Express recognises error handlers by their four parameters
app.use((error, _req, res, _next) => {
  const status = typeof error.status === 'number' ? error.status : 500;
  res.status(status).json({ message: status === 500 ? 'Internal Server Error' : error.message });
});
app.use((_req, res) => {
  res.status(404).json({ message: 'Not Found' });
});

const server = app.listen(Number(PORT), HOST);
process.once('SIGTERM', () => { server.close(() => process.exit(0)); server.closeAllConnections(); });
process.once('SIGINT', () => process.exit(0));
