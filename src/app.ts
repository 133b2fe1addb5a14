// buildApp(deps): the Fastify instance. HTTP concerns live here and in http/; each
// domain registers its own routes.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import helmet from 'helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import { join } from 'node:path';
import { projectRoot } from './config.ts';
import type { Deps } from './deps.ts';
import { consentRoutes } from './consent/routes.ts';
import { declaredCookieNames } from './http/cookies.ts';
import { AppError, statusForCode, titles } from './http/errors.ts';
import { html } from './http/html.ts';
import { page } from './http/layout.ts';
import { formReplyFor, inquiryRoutes } from './inquiries/routes.ts';
import { readValues } from './inquiries/validate-inquiry.ts';
import { siteRoutes } from './site/routes.ts';
import type { FormKind } from './policy/schema.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    formKind?: FormKind;
  }
}

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

export async function buildApp(deps: Deps, options: BuildOptions = {}): Promise<FastifyInstance> {
  const { config } = deps;
  const orgName = deps.policy.policy.organisation.name;
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
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    return503OnClosing: true,
  });

  // Built once: @fastify/helmet rebuilt the middleware (and re-parsed the CSP) per request.
  const securityHeaders = helmet({
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
        ...(config.https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: config.https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    // same-origin: nothing is ever sent to another site, and same-origin form posts keep
    // a real Origin header for browsers that predate Sec-Fetch-Site.
    referrerPolicy: { policy: 'same-origin' },
    frameguard: { action: 'deny' },
  });
  app.addHook('onRequest', (req, reply, done) => securityHeaders(req.raw, reply.raw, (err?: unknown) => done(err as Error | undefined)));
  const declaredCookies = declaredCookieNames(deps.policy);
  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('permissions-policy', 'browsing-topics=(), interest-cohort=(), camera=(), microphone=(), geolocation=(), payment=()');
    // Defence in depth for P9: a cookie the policy does not declare never leaves.
    const names = setCookieNames(reply.getHeader('set-cookie'));
    const undeclared = names.filter((n) => !declaredCookies.has(n));
    if (undeclared.length > 0) {
      req.log.error({ cookies: undeclared }, 'undeclared cookie removed from response');
      reply.removeHeader('set-cookie');
    }
    return payload;
  });

  await app.register(cookie);
  // Forms are the only bodies this site takes; JSON or text posts get a 415.
  app.removeAllContentTypeParsers();
  await app.register(formbody, { bodyLimit: config.bodyLimitBytes });
  await app.register(rateLimit, {
    global: false,
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
  await app.register(fastifyStatic, {
    root: join(projectRoot, 'public'),
    prefix: '/static/',
    maxAge: 3600_000,
    index: false,
  });

  app.get('/healthz', async (_req, reply) => {
    try {
      await deps.storage.ping();
      return { status: 'ok', database: deps.storage.kind };
    } catch {
      return reply.code(503).send({ status: 'unavailable', database: deps.storage.kind });
    }
  });

  const formReplies = { demo: formReplyFor(deps, 'demo'), contact: formReplyFor(deps, 'contact') };

  app.setNotFoundHandler((req, reply) => {
    if (wantsJson(req)) return reply.code(404).type('application/problem+json').send({ type: 'about:blank', title: 'Not Found', status: 404 });
    return reply
      .code(404)
      .type('text/html; charset=utf-8')
      .send(page({ title: titles[404], orgName, path: req.url, body: html`<div class="status-page"><h1>${titles[404]}</h1><p>There is no page at this address. Try the <a href="/">home page</a>.</p></div>` }));
  });

  app.setErrorHandler((error: FastifyError | AppError, req: FastifyRequest, reply: FastifyReply) => {
    let status = error instanceof AppError ? statusForCode[error.code] : (error as FastifyError).statusCode ?? 500;
    if (status < 400 || status > 599) status = 500;
    const retryAfter = (error as { retryAfter?: number }).retryAfter;
    if (retryAfter) reply.header('retry-after', String(retryAfter));
    if (status >= 500) req.log.error({ err: { message: error.message, code: (error as FastifyError).code, stack: error.stack } }, 'request failed');
    else req.log.info({ status, code: (error as FastifyError).code }, 'request refused');

    const message =
      status >= 500
        ? 'Please try again in a few minutes. If it keeps happening, write to us by email.'
        : error instanceof AppError
          ? error.userMessage
          : status === 413
            ? `What you sent is larger than we accept (${Math.floor(config.bodyLimitBytes / 1024)} KB). Please shorten it and try again.`
            : status === 415
              ? 'We accept forms sent as application/x-www-form-urlencoded only.'
              : 'We could not read what was sent. Please go back and try again.';

    // A form that is refused after its body was read comes back with the input kept.
    const formKind = req.routeOptions.config?.formKind;
    if (formKind && req.body && typeof req.body === 'object' && status < 500 && !wantsJson(req)) {
      return reply.send(formReplies[formKind](reply, status, { values: readValues(req.body), errors: {}, formMessage: `${message} Your details are kept below.` }));
    }
    if (wantsJson(req)) {
      return reply.code(status).type('application/problem+json').send({ type: 'about:blank', title: titles[status] ?? 'Error', status, detail: message });
    }
    return reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(page({ title: titles[status] ?? 'Error', orgName, path: req.url, body: html`<div class="status-page"><h1>${titles[status] ?? 'Error'}</h1><p>${message}</p><p><a href="/">Home page</a></p></div>` }));
  });

  // Registered after the handlers above so that every route scope inherits them.
  await app.register(async (scope) => siteRoutes(scope, deps));
  await app.register(async (scope) => inquiryRoutes(scope, deps));
  await app.register(async (scope) => consentRoutes(scope, deps));

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
