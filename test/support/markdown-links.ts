import { marked, type Token } from 'marked';

/**
 * The link targets of a markdown document (marked's CommonMark lexer), in
 * order of first appearance, each once, with `%20` decoded back to a space
 * (the inverse of how the reports write paths). Links in code blocks, code
 * spans and escaped brackets are not links.
 *
 * @example markdownLinks('See [run 1](run%201/report.md) and `[x](y)`') // ['run 1/report.md']
 */
export function markdownLinks(markdown: string): string[] {
  const targets: string[] = [];
  marked.walkTokens(marked.lexer(markdown), (token: Token) => {
    if (token.type !== 'link') return;
    const path = token.href.replaceAll('%20', ' ');
    if (!targets.includes(path)) targets.push(path);
  });
  return targets;
}
