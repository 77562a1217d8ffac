import type { EventStore } from '../../store/types.js';
import { viewerData, type ViewerData } from './data.js';
import { viewerPage } from './page.js';

export { viewerData, type ViewerData, type ViewerRow, type ViewerStream } from './data.js';
export { viewerPage, clientScript } from './page.js';
export { graphSvg, treeHtml, escapeHtml } from './render.js';
export { layoutMachine, stateKinds, type ViewerGraph, type GraphNode, type GraphEdge, type StateKind, type EdgeKind } from './layout.js';

/**
 * The offline viewer of an experiment: one self-contained HTML page (inline
 * CSS, script, SVG and data; it requests nothing) with the four machines as
 * statecharts, the tier → subtest → run tree and a timeline over every row.
 */
export function buildViewer(store: EventStore, key: string): { html: string; data: ViewerData } {
  const data = viewerData(store, key);
  return { html: viewerPage(data), data };
}
