// The built-in SMTP listener (smtp-server): mail for the addresses the policy names is
// parsed and threaded by receiveMail; any other recipient is refused (550 5.1.1), as is
// a message over the size limit (552 5.3.4, announced with SIZE). STARTTLS is offered
// when a certificate and key are configured; AUTH is not offered (this is a mail
// exchanger for our own addresses, not a relay). Nothing the client sends is logged:
// only codes, counts and record ids.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { FastifyBaseLogger } from 'fastify';
import type { Deps } from '../deps.ts';
import { ConfigError } from '../config.ts';
import { MailRefused, receiveMail } from './receive-mail.ts';
import { inboundSettings } from './settings.ts';

export interface InboundSmtp {
  port: number;
  close(): Promise<void>;
}

type Log = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;

const MAX_RECIPIENTS = 50;

function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}

function tlsFiles(certPath: string | undefined, keyPath: string | undefined): { cert: Buffer; key: Buffer } | undefined {
  if (!certPath && !keyPath) return undefined;
  if (!certPath || !keyPath) throw new ConfigError('INBOUND_SMTP_TLS_CERT and INBOUND_SMTP_TLS_KEY: set both (PEM files) to offer STARTTLS, or neither');
  try {
    return { cert: readFileSync(certPath), key: readFileSync(keyPath) };
  } catch (error) {
    const code = String((error as { code?: unknown }).code ?? 'error');
    throw new ConfigError(`INBOUND_SMTP_TLS_CERT / INBOUND_SMTP_TLS_KEY: cannot read the file (${code}); give readable PEM files`);
  }
}

export async function startInboundSmtp(deps: Pick<Deps, 'config' | 'storage' | 'policy' | 'signer' | 'now' | 'mailQueued'>, log?: Log): Promise<InboundSmtp> {
  const { config } = deps;
  const settings = inboundSettings(deps.policy.policy);
  const tls = tlsFiles(config.inboundSmtpTlsCert, config.inboundSmtpTlsKey);
  const options: SMTPServerOptions = {
    name: new URL(config.publicUrl).hostname,
    banner: 'LumeTrax inbound mail',
    size: settings.messageMaxBytes,
    authOptional: true,
    disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    logger: false,
    maxClients: 50,
    socketTimeout: 60_000,
    closeTimeout: 5_000,
    onMailFrom(address, _session, callback) {
      const args = address.args;
      const declared = args ? Number(args.SIZE) : Number.NaN;
      if (Number.isFinite(declared) && declared > settings.messageMaxBytes) return callback(smtpError(552, '5.3.4 Message too big'));
      callback();
    },
    onRcptTo(address, session, callback) {
      if (session.envelope.rcptTo.length >= MAX_RECIPIENTS) return callback(smtpError(452, '4.5.3 Too many recipients'));
      if (!settings.addresses.has(address.address.trim().toLowerCase())) return callback(smtpError(550, '5.1.1 No such mailbox here'));
      callback();
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes <= settings.messageMaxBytes) chunks.push(chunk);
      });
      stream.on('error', () => callback(smtpError(451, '4.3.0 Could not read the message')));
      stream.on('end', () => {
        const exceeded = (stream as unknown as { sizeExceeded?: boolean }).sizeExceeded || bytes > settings.messageMaxBytes;
        if (exceeded) {
          log?.info({ inbound: 'smtp', bytes }, 'inbound message refused: over the size limit');
          return callback(smtpError(552, '5.3.4 Message too big'));
        }
        receiveMail(deps, Buffer.concat(chunks), { source: 'smtp' }).then(
          (result) => {
            if (result.status === 'duplicate') log?.info({ inbound: 'smtp' }, 'inbound message already stored');
            else log?.info({ inbound: 'smtp', thread: result.threadId, message: result.messageRowId, triage: result.triage, matchedBy: result.matchedBy, attachments: result.attachments, dropped: result.droppedAttachments }, 'inbound message stored');
            callback(null, 'Message accepted');
          },
          (error: unknown) => {
            if (error instanceof MailRefused) {
              log?.info({ inbound: 'smtp', code: error.responseCode }, 'inbound message refused');
              return callback(smtpError(error.responseCode, `5.3.4 ${error.message}`));
            }
            // The database is away or the like: the sender's server will try again.
            log?.error({ inbound: 'smtp', err: { code: String((error as { code?: unknown }).code ?? (error as Error).name) } }, 'inbound message not stored; the sender was asked to retry');
            callback(smtpError(451, '4.3.0 Temporary failure, try again later'));
          },
        );
      });
    },
  };
  const server = new SMTPServer(options);
  let listening = false;
  server.on('error', (error: Error & { code?: unknown }) => {
    // A failure to listen is reported once, by the start-up below.
    if (!listening) return;
    // Connection-level trouble (a client hanging up, a TLS handshake failing): codes only.
    log?.warn({ inbound: 'smtp', err: { code: String(error.code ?? error.name) } }, 'inbound SMTP connection error');
  });
  const port = config.inboundSmtpPort ?? 0;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error & { code?: string }) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new ConfigError(`INBOUND_SMTP_PORT: port ${port} on ${config.inboundSmtpHost} is already in use; choose another port or stop what holds it`)
          : error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND'
            ? new ConfigError(`INBOUND_SMTP_HOST: ${config.inboundSmtpHost} is not an address of this machine`)
            : error.code === 'EACCES'
              ? new ConfigError(`INBOUND_SMTP_PORT: port ${port} needs privileges this process lacks; use a port above 1023 behind a redirect`)
              : error,
      );
    };
    server.server.once('error', onError);
    server.listen(port, config.inboundSmtpHost, () => {
      server.server.off('error', onError);
      listening = true;
      resolve();
    });
  });
  const actual = (server.server.address() as AddressInfo).port;
  log?.info({ inbound: 'smtp', host: config.inboundSmtpHost, port: actual, starttls: Boolean(tls) }, 'inbound SMTP listener started');
  return {
    port: actual,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
