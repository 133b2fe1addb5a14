// The page shell shared by every server-rendered page. No inline script or style (the
// CSP forbids both) and nothing from another origin.
import { html, type SafeHtml } from './html.ts';

export interface PageOptions {
  title: string;
  orgName: string;
  path: string;
  body: SafeHtml;
  description?: string;
}

const navItems: Array<[string, string]> = [
  ['/', 'Home'],
  ['/demo', 'Request a demo'],
  ['/contact', 'Contact'],
  ['/privacy', 'Privacy'],
  ['/security', 'Security'],
];

export function page(options: PageOptions): string {
  const { title, orgName, path, body } = options;
  return (
    '<!doctype html>\n' +
    html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${orgName}</title>
${options.description ? html`<meta name="description" content="${options.description}">` : ''}
<link rel="stylesheet" href="/static/site.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
<a class="skip-link" href="#main">Skip to main content</a>
<header class="site-header">
<a class="brand" href="/">${orgName}</a>
<nav aria-label="Main">
<ul>
${navItems.map(([href, label]) => html`<li><a href="${href}"${html`${path === href ? html` aria-current="page"` : ''}`}>${label}</a></li>`)}
</ul>
</nav>
</header>
<main id="main" class="container" tabindex="-1">
${body}
</main>
<footer class="site-footer">
<p>© ${orgName}. <a href="/privacy">Privacy notice</a> · <a href="/privacy/retention">Retention schedule</a> · <a href="/privacy/preferences">Marketing preferences</a> · <a href="/security">Security</a></p>
<p class="muted">This site sets no cookies while you browse and loads nothing from other websites.</p>
</footer>
</body>
</html>
`.value
  );
}
