// One way to answer with a page, shared by every route, the central error handler and
// whatever surface comes next (a staff console passes its own nav to the layout).
// Routes that take a form also say here how to show that form again with the
// visitor's input, so a refusal raised outside the handler (a 429 from the limiter)
// never loses what was typed and app.ts needs no knowledge of any form.
import type { FastifyReply } from 'fastify';
import { html, type SafeHtml } from './html.ts';
import { page, type PageOptions } from './layout.ts';

/** Shows the route's form again with the posted input and a message about the whole form. */
export type Rerender = (reply: FastifyReply, status: number, body: Record<string, unknown>, message: string) => string | FastifyReply;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set on routes that take a form: used by the error handler once the body was read. */
    rerender?: Rerender;
    /** The post counts against the one per-client budget shared by every public form. */
    publicFormPost?: boolean;
  }
}

export interface RenderOptions extends PageOptions {
  /** Pages holding a visitor's input or a receipt must not be kept by caches. */
  noStore?: boolean;
}

/** Sets status and type on the reply and returns the page's HTML (send it or return it). */
export function render(reply: FastifyReply, status: number, options: RenderOptions): string {
  reply.code(status).type('text/html; charset=utf-8');
  if (options.noStore) reply.header('cache-control', 'no-store');
  return page(options);
}

/** The body of a short status page: a heading, one message, and a way on. Never echoes input. */
export function statusBody(heading: string, message: string | SafeHtml, next: SafeHtml = html`<a href="/">Home page</a>`): SafeHtml {
  return html`<div class="status-page"><h1>${heading}</h1><p>${message}</p><p>${next}</p></div>`;
}
