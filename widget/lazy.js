// When the widget connects (docs/widget.md, "What loads when"): a first page view opens no socket and writes nothing; a browser that holds a conversation with activity in the last 30 days connects on load; known crawlers get the launcher only.

/** How long a conversation's last message keeps the next page views connecting on load. */
export const RECENT_MS = 30 * 24 * 3600 * 1000;

// Search engines, link previews and SEO crawlers, by User-Agent; plus the convention of a contact URL
// ("+http://…") that crawlers put in theirs. navigator.webdriver is not used: test suites and
// automation drive real browsers (ours included) and expect a working chat.
const CRAWLERS = /(google|bing|duckduck|yandex|apple|twitter|linkedin|slack|discord|telegram|petal|semrush|ahrefs|mj12|dot|gpt|cc|claude|amazon|seznam)bot|\bbot\b|crawl|spider|slurp|mediapartners|google-inspectiontool|bingpreview|facebookexternalhit|\+https?:\/\//i;

/** Whether this User-Agent is a known crawler: it gets the launcher only (no chat, no request). */
export const isCrawler = (userAgent) => CRAWLERS.test(String(userAgent || ''));

/** Whether a conversation kept under `tokenKey` had a message since `now - RECENT_MS` (`load` reads storage). */
export const recentConversation = (load, tokenKey, now) => Number(load(tokenKey + ':at')) > now - RECENT_MS;
