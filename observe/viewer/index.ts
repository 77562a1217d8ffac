import type { EventStore } from '../../store/types.js';
import { viewerData, type ViewerData } from './data.js';
import { viewerPage } from './page.js';

export { viewerData, CHUNK_SIZE, type ViewerData, type ViewerChunk, type ViewerStream, type FinalActor } from './data.js';
export { Timeline, type ActorAt, type RowAt } from './timeline.js';
export { viewerPage, clientScript, builtBundle, VIEWER_CSS } from './page.js';
export { graphSvg, treeHtml, escapeHtml } from './render.js';
export { layoutMachine, stateKinds, type ViewerGraph, type GraphNode, type GraphEdge, type StateKind, type EdgeKind } from './layout.js';

/**
 * The offline viewer of an experiment: one self-contained HTML page (inline
 * CSS, script, SVG and data; it requests nothing) with the four machines as
 * statecharts, the tier → subtest → run tree and a timeline over every row
 * (the rows in chunks the page decodes when it needs them).
 */
export function buildViewer(store: EventStore, key: string, chunkSize?: number): { html: string; data: ViewerData } {
  const { data, chunks } = viewerData(store, key, chunkSize);
  return { html: viewerPage(data, chunks), data };
}
