// buildApp(deps): the Fastify instance. HTTP concerns live here and in http/; each
// domain registers its own routes and says, in its route config, how its form is shown
// again (`rerender`) and whether a post counts against the shared form budget.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import helmet from 'helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import { join } from 'node:path';
import { formBodyLimitBytes, projectRoot } from './config.ts';
import type { Deps } from './deps.ts';
import { consentRoutes } from './consent/routes.ts';
import { declaredCookieNames } from './http/cookies.ts';
import { AppError, messageForStatus, statusForCode, titles } from './http/errors.ts';
import { html } from './http/html.ts';
import { page } from './http/layout.ts';
import { render, statusBody } from './http/render.ts';
import { inquiryRoutes } from './inquiries/routes.ts';
import { siteRoutes } from './site/routes.ts';
import { routeAccess } from './auth/access.ts';
import { authRoutes } from './auth/routes.ts';
import { consoleRoutes } from './console/routes.ts';
import { retentionConsoleRoutes } from './console/retention.ts';
import { inboxRoutes } from './console/inbox.ts';
import { auditRoutes } from './console/audit.ts';
import { registerAnalytics } from './analytics/routes.ts';
import { analyticsConsoleRoutes } from './console/analytics.ts';
import { rightsRoutes } from './rights/routes.ts';
import { requestRoutes } from './console/requests.ts';
import { requestReportRoutes } from './console/request-report.ts';

export interface BuildOptions {
  logger?: boolean | object;
}

function wantsJson(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('json') && !accept.includes('text/html');
}

function setCookieNames(header: unknown): string[] {
  const list = Array.isArray(header) ? header : header === undefined ? [] : [header];
  return list.map((c) => String(c).split('=')[0].trim());
}

/**
 * The security headers, worked out once at start: the same list goes on routed answers,
 * on framework errors that bypass the hooks, and on answers written straight to the
 * socket, so no answer leaves without them.
 */
function securityHeaderList(https: boolean): Array<[string, string]> {
  const middleware = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    // same-origin: nothing is ever sent to another site, and same-origin form posts keep
    // a real Origin header for browsers that predate Sec-Fetch-Site.
    referrerPolicy: { policy: 'same-origin' },
    frameguard: { action: 'deny' },
  });
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: unknown) => headers.set(name.toLowerCase(), String(value)),
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
    getHeader: (name: string) => headers.get(name.toLowerCase()),
  };
  // Our directives are static (no per-request nonce), so one run gives every header.
  middleware({ headers: {} } as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  headers.set('permissions-policy', 'browsing-topics=(), interest-cohort=(), camera=(), microphone=(), geolocation=(), payment=()');
  return [...headers];
}

/** Reads an urlencoded body as bytes, so that bytes which are not UTF-8 are seen. */
function parseFormBody(raw: Buffer): Record<string, string | string[]> {
  // Lossy on purpose: a byte sequence that is not UTF-8 becomes U+FFFD, which validation
  // refuses as "characters we can't read" while the rest of the input is shown again.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const hex = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1);
  const decode = (start: number, end: number): string => {
    let plain = true;
    for (let i = start; i < end && plain; i++) plain = raw[i] < 0x80 && raw[i] !== 0x25 && raw[i] !== 0x2b;
    if (plain) return raw.toString('latin1', start, end); // plain ASCII: nothing to decode
    const out = Buffer.allocUnsafe(end - start);
    let n = 0;
    for (let i = start; i < end; i++) {
      const c = raw[i];
      if (c === 0x2b) out[n++] = 0x20;
      else if (c === 0x25 && i + 2 < end && hex(raw[i + 1]) >= 0 && hex(raw[i + 2]) >= 0) {
        out[n++] = hex(raw[i + 1]) * 16 + hex(raw[i + 2]);
        i += 2;
      } else out[n++] = c; // a stray "%" stays as typed
    }
    return decoder.decode(out.subarray(0, n));
  };
  // No prototype: "__proto__" or "constructor" posted as names are plain keys.
  const body = Object.create(null) as Record<string, string | string[]>;
  let start = 0;
  while (start <= raw.length) {
    let end = raw.indexOf(0x26, start);
    if (end < 0) end = raw.length;
    if (end > start) {
      let eq = raw.indexOf(0x3d, start);
      if (eq < 0 || eq > end) eq = end;
      const key = decode(start, eq);
      const value = eq < end ? decode(eq + 1, end) : '';
      const seen = body[key];
      if (seen === undefined) body[key] = value;
      else if (Array.isArray(seen)) seen.push(value);
      else body[key] = [seen, value];
    }
    start = end + 1;
  }
  return body;
}

function noRouteSchemas(): never {
  throw new Error('route schemas are not used: each route validates its input itself');
}

export async function buildApp(deps: Deps, options: BuildOptions = {}): Promise<FastifyInstance> {
  const { config } = deps;
  const orgName = deps.policy.policy.organisation.name;
  // The largest valid form must never be refused as too large; BODY_LIMIT_BYTES overrides.
  if (!config.bodyLimitBytes) config.bodyLimitBytes = formBodyLimitBytes(deps.policy.policy);
  const bodyLimit = config.bodyLimitBytes;
  const headerList = securityHeaderList(config.https);
  const applySecurityHeaders = (res: ServerResponse) => {
    for (const [name, value] of headerList) res.setHeader(name, value);
  };

  const errorPage = (status: number, message: string) =>
    page({ title: titles[status] ?? 'Error', orgName, path: '', body: statusBody(titles[status] ?? 'Error', message), noindex: true });

  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: config.logLevel,
            // Logs carry method, path and status only: never bodies, query strings,
            // cookies or headers, which could hold personal data.
            serializers: {
              req: (req: { method: string; url: string; id: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            },
            ...(typeof options.logger === 'object' ? options.logger : {}),
          },
    bodyLimit,
    trustProxy: config.trustProxy,
    return503OnClosing: true,
    // Input is checked by the app's own validators, never by route schemas, so Fastify's
    // schema compilers (ajv and fast-json-stringify, about 90 modules) are never loaded.
    schemaController: { compilersFactory: { buildValidator: noRouteSchemas, buildSerializer: noRouteSchemas } },
    // A body trickled in byte by byte is cut off: the whole request must arrive within
    // the request timeout and its headers within the headers timeout.
    requestTimeout: config.requestTimeoutSeconds * 1000,
    http: {
      requestTimeout: config.requestTimeoutSeconds * 1000,
      headersTimeout: config.headersTimeoutSeconds * 1000,
      // Node checks the timeouts on this interval (30 s by default, longer than the limits).
      connectionsCheckingInterval: Math.min(1000, config.headersTimeoutSeconds * 250),
    },
    // Errors raised before routing (a bad escape in the URL, an over-long path segment)
    // get the same page and headers as every other answer, and never echo the URL.
    frameworkErrors: (error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : error.code === 'FST_ERR_BAD_URL' ? 400 : (error.statusCode ?? 500);
      req.log.info({ status, code: error.code }, 'request refused');
      applySecurityHeaders(reply.raw);
      return reply.code(status).type('text/html; charset=utf-8').send(errorPage(status, messageForStatus(status, bodyLimit)));
    },
    // Connection-level errors (malformed request line, headers too large, too slow) are
    // answered on the socket itself: same page, same headers, connection closed.
    clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      app.log.info({ status, code: err.code }, 'connection refused');
      if (socket.writable) {
        const body = errorPage(status, messageForStatus(status, bodyLimit));
        const head = [
          `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
          'content-type: text/html; charset=utf-8',
          `content-length: ${Buffer.byteLength(body)}`,
          'cache-control: no-store',
          'connection: close',
          ...headerList.map(([name, value]) => `${name}: ${value}`),
        ];
        // Closed once the page is flushed, whatever the client is still sending.
        socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
        socket.destroySoon();
      } else {
        socket.destroy();
      }
    },
  });

  app.addHook('onRequest', (_req, reply, done) => {
    applySecurityHeaders(reply.raw);
    done();
  });
  await app.register(cookie);
  const declaredCookies = declaredCookieNames(deps.policy);
  // Added after the cookie plugin, so it runs after the plugin's own onSend has written
  // the cookies set with reply.setCookie. Callback style: it runs on every answer.
  app.addHook('onSend', (req, reply, payload, done) => {
    // Defence in depth for P9: a cookie the policy does not declare never leaves.
    const header = reply.getHeader('set-cookie');
    if (header !== undefined) {
      const undeclared = setCookieNames(header).filter((n) => !declaredCookies.has(n));
      if (undeclared.length > 0) {
        req.log.error({ cookies: undeclared }, 'undeclared cookie removed from response');
        reply.removeHeader('set-cookie');
      }
    }
    done(null, payload);
  });

  // Forms are the only bodies this site takes; JSON or text posts get a 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit }, (_req, raw, done) => {
    done(null, parseFormBody(raw as Buffer));
  });
  await app.register(rateLimit, {
    global: false,
    // The one budget shared by every public form post (per client, not per route).
    max: config.rateLimitMax,
    timeWindow: config.rateLimitWindowSeconds * 1000,
    ...(await sharedRateLimitStore(app, config.redisUrl)),
    // The limiter keys on a keyed hash, so client addresses are never held in memory.
    keyGenerator: (req) => deps.signer.keyedHash('rate-limit', req.ip).slice(0, 32),
    errorResponseBuilder: (_req, context) => {
      const err = new AppError('rate_limited', `Too many requests. Please wait ${Math.ceil(context.ttl / 1000)} seconds and try again.`) as AppError & { statusCode: number; retryAfter: number };
      err.statusCode = 429;
      err.retryAfter = Math.ceil(context.ttl / 1000);
      return err;
    },
  });
  // Without options the limiter uses the plugin's own store and settings: one counter per
  // client, whichever form was posted. Runs as a preHandler, after the body was read, so
  // a 429 shows the form again with what was typed.
  const publicFormBudget = app.rateLimit();
  // Fixed paths and their methods, so a known page asked with another method is a 405.
  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    if (!/[:*]/.test(route.url)) {
      const methods = methodsByPath.get(route.url) ?? new Set<string>();
      for (const m of Array.isArray(route.method) ? route.method : [route.method]) methods.add(m);
      methodsByPath.set(route.url, methods);
    }
    if (!route.config?.publicFormPost) return;
    const existing = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
    route.preHandler = [publicFormBudget, ...existing];
  });
  // Every route declares who may use it (config.access); one without stops the start.
  // Routes with roles get the staff gate first (src/auth/access.ts).
  const access = routeAccess(deps);
  app.addHook('onRoute', access.onRoute);
  app.decorate('declaredRoutes', access.routes);
  await app.register(fastifyStatic, {
    root: join(projectRoot, 'public'),
    prefix: '/static/',
    maxAge: 3600_000,
    index: false,
  });

  app.get('/healthz', { config: { access: 'public' } }, async (_req, reply) => {
    try {
      await deps.storage.ping();
      return { status: 'ok', database: deps.storage.kind };
    } catch {
      return reply.code(503).send({ status: 'unavailable', database: deps.storage.kind });
    }
  });

  app.setNotFoundHandler((req, reply) => {
    const allowed = methodsByPath.get(req.url.split('?')[0]);
    if (allowed) {
      reply.header('allow', [...allowed].sort().join(', '));
      if (wantsJson(req)) return reply.code(405).type('application/problem+json').send({ type: 'about:blank', title: titles[405], status: 405 });
      return reply.send(render(reply, 405, { title: titles[405], orgName, path: '', noindex: true, body: statusBody(titles[405], messageForStatus(405, bodyLimit)) }));
    }
    if (wantsJson(req)) return reply.code(404).type('application/problem+json').send({ type: 'about:blank', title: 'Not Found', status: 404 });
    return reply.send(
      render(reply, 404, {
        title: titles[404],
        orgName,
        path: '',
        noindex: true,
        body: statusBody(titles[404], 'There is no page at this address.', html`Try the <a href="/">home page</a>.`),
      }),
    );
  });

  app.setErrorHandler((error: FastifyError | AppError, req: FastifyRequest, reply: FastifyReply) => {
    let status = error instanceof AppError ? statusForCode[error.code] : ((error as FastifyError).statusCode ?? 500);
    if (status < 400 || status > 599) status = 500;
    const retryAfter = (error as { retryAfter?: number }).retryAfter;
    if (retryAfter) reply.header('retry-after', String(retryAfter));
    if (status >= 500) req.log.error({ err: { message: error.message, code: (error as FastifyError).code, stack: error.stack } }, 'request failed');
    else req.log.info({ status, code: (error as FastifyError).code }, 'request refused');

    const message = status < 500 && error instanceof AppError ? error.userMessage : messageForStatus(status, bodyLimit);

    // A form refused after its body was read comes back with the input kept; the route
    // says how to show itself.
    const rerender = req.routeOptions.config?.rerender;
    if (rerender && req.body && typeof req.body === 'object' && status < 500 && !wantsJson(req)) {
      const shown = rerender(reply, status, req.body as Record<string, unknown>, `${message} Your details are kept below.`);
      return typeof shown === 'string' ? reply.send(shown) : shown;
    }
    if (wantsJson(req)) {
      return reply.code(status).type('application/problem+json').send({ type: 'about:blank', title: titles[status] ?? 'Error', status, detail: message });
    }
    return reply.send(render(reply, status, { title: titles[status] ?? 'Error', orgName, path: '', noindex: true, body: statusBody(titles[status] ?? 'Error', message) }));
  });

  // Registered after the handlers above so that every route scope inherits them. The
  // analytics hook counts the public pages' HTML requests, so it comes before them.
  await registerAnalytics(app, deps);
  await app.register(async (scope) => siteRoutes(scope, deps));
  await app.register(async (scope) => inquiryRoutes(scope, deps));
  await app.register(async (scope) => consentRoutes(scope, deps));
  await app.register(async (scope) => authRoutes(scope, deps));
  await app.register(async (scope) => consoleRoutes(scope, deps));
  await app.register(async (scope) => inboxRoutes(scope, deps));
  await app.register(async (scope) => auditRoutes(scope, deps));
  await app.register(async (scope) => retentionConsoleRoutes(scope, deps));
  await app.register(async (scope) => analyticsConsoleRoutes(scope, deps));
  await app.register(async (scope) => rightsRoutes(scope, deps));
  await app.register(async (scope) => requestRoutes(scope, deps));
  await app.register(async (scope) => requestReportRoutes(scope, deps));

  return app;
}

/**
 * With REDIS_URL, instances share their counters (keyed hashes with a TTL, never an
 * address). Commands fail fast instead of queueing while Redis is away, and the limiter
 * then lets posts through: a visitor is never refused because our store is down, and the
 * honeypot and fill-time checks still apply. Loaded only when configured.
 */
async function sharedRateLimitStore(app: FastifyInstance, redisUrl: string | undefined): Promise<object> {
  if (!redisUrl) return {};
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl, { connectTimeout: 1000, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  let healthy = true;
  redis.on('ready', () => {
    if (!healthy) app.log.info('rate-limit store (Redis) is back; limits are shared again');
    healthy = true;
  });
  redis.on('error', (err: Error & { code?: string }) => {
    // Once per outage: ioredis reports every reconnect attempt.
    if (healthy) app.log.warn({ code: err.code }, 'rate-limit store (Redis) unavailable; form posts are not rate limited until it returns');
    healthy = false;
  });
  await redis.connect().catch(() => undefined);
  app.addHook('onClose', async () => {
    redis.disconnect();
  });
  return { redis, nameSpace: 'lumetrax:rate-limit:', skipOnError: true };
}
