/**
 * The HTML report (`--html FILE`): page builders per command and the renderer. See page.ts for what the page holds.
 */
export { buildAnalyzePage, buildExplainPage, buildSimulatePage, type ExplainPageInput } from './build.js';
export { renderHtmlPage } from './page.js';
export type { HtmlPage, TimelineData, TimelineLimits } from './model.js';
