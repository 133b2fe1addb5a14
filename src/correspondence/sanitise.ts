// Inbound HTML is stored only after sanitize-html has rebuilt it from an allow-list: no
// script, no event handlers, no forms or frames, nothing that loads from elsewhere (no
// src to http(s) or any other scheme, no CSS at all, so no url()), and every link inert
// for the browser's opener and referrer. What the console shows is this, never the
// original.
import sanitizeHtml from 'sanitize-html';

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    'a', 'abbr', 'b', 'blockquote', 'br', 'caption', 'code', 'col', 'colgroup', 'dd', 'del', 'div', 'dl', 'dt', 'em',
    'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'ins', 'kbd', 'li', 'ol', 'p', 'pre', 'q', 's', 'small', 'span',
    'strong', 'sub', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'u', 'ul',
  ],
  // No style, class or id (no CSS, so no url() and no overlaying the console), no src.
  allowedAttributes: {
    a: ['href', 'title'],
    td: ['colspan', 'rowspan'],
    th: ['colspan', 'rowspan'],
    abbr: ['title'],
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  // Their content goes too: a script's or a style sheet's text is not the message.
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'title', 'head', 'iframe', 'object', 'embed', 'svg', 'math', 'template'],
  disallowedTagsMode: 'discard',
  transformTags: {
    a: (tagName, attribs) => ({
      tagName,
      attribs: { ...attribs, rel: 'noopener noreferrer nofollow', target: '_blank', referrerpolicy: 'no-referrer' },
    }),
  },
};

// The attributes the transform adds must survive the allow-list that runs after it.
OPTIONS.allowedAttributes = { ...OPTIONS.allowedAttributes, a: ['href', 'title', 'rel', 'target', 'referrerpolicy'] };

export function sanitiseHtml(html: string): string {
  return sanitizeHtml(html, OPTIONS);
}
