// The page shell shared by every server-rendered page. No inline script or style (the
// CSP forbids both) and nothing from another origin. The navigation is a parameter, so
// another surface (a staff console) can use the same shell with its own links.
import { html, type SafeHtml } from './html.ts';

export type NavItems = ReadonlyArray<readonly [href: string, label: string]>;

export interface PageOptions {
  title: string;
  orgName: string;
  path: string;
  body: SafeHtml;
  /** The page's meta description; every public page should give its own. */
  description?: string;
  /** Links in the header (the public site's by default). */
  nav?: NavItems;
  /** Footer links and note; the public site's by default, `false` for none. */
  footer?: SafeHtml | false;
  /** Asks search engines not to index the page (receipts, one-off confirmations). */
  noindex?: boolean;
}

export const siteNav: NavItems = [
  ['/', 'Home'],
  ['/demo', 'Request a demo'],
  ['/contact', 'Contact'],
  ['/privacy', 'Privacy'],
  ['/security', 'Security'],
];

function siteFooter(orgName: string): SafeHtml {
  return html`<p>© ${orgName}. <a href="/privacy">Privacy notice</a> · <a href="/privacy/retention">Retention schedule</a> · <a href="/privacy/deadlines">Request deadlines</a> · <a href="/privacy/preferences">Marketing preferences</a> · <a href="/security">Security</a></p>
<p class="muted">This site sets no cookies while you browse and loads nothing from other websites.</p>`;
}

export function page(options: PageOptions): string {
  const { title, orgName, path, body } = options;
  const nav = options.nav ?? siteNav;
  const footer = options.footer === undefined ? siteFooter(orgName) : options.footer;
  // A page without its own description still gets a true, generic one.
  const description = options.description ?? `${title}, on the ${orgName} website.`;
  return (
    '<!doctype html>\n' +
    html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${orgName}</title>
<meta name="description" content="${description}">
${options.noindex ? html`<meta name="robots" content="noindex">` : ''}
<link rel="stylesheet" href="/static/site.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
${options.nav === undefined ? html`<script src="/static/t.js" defer></script>` : ''}
</head>
<body>
<a class="skip-link" href="#main">Skip to main content</a>
<header class="site-header">
<a class="brand" href="/">${orgName}</a>
${nav.length > 0 ? html`<nav aria-label="Main">
<ul>
${nav.map(([href, label]) => html`<li><a href="${href}"${path === href ? html` aria-current="page"` : ''}>${label}</a></li>`)}
</ul>
</nav>` : ''}
</header>
<main id="main" class="container" tabindex="-1">
${body}
</main>
${footer ? html`<footer class="site-footer">
${footer}
</footer>` : ''}
</body>
</html>
`.value
  );
}
