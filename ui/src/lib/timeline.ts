// Timeline presentation helpers: kind labels and merging pages.
import type { TimelineKind, TimelinePage } from '../api';

/** Text labels, so the kind never depends on colour alone. */
export const KIND_LABEL: Record<TimelineKind, string> = {
  message: 'Client message',
  response: 'Reply',
  note: 'Internal note',
  time: 'Time entry',
};

/** How many items a page of the timeline holds. */
export const PAGE_SIZE = 50;

/**
 * Prepends an earlier page to what is shown. Pages come chronological from
 * the core; the result stays chronological and starts at the earlier start.
 */
export function prependPage(shown: TimelinePage, earlier: TimelinePage): TimelinePage {
  const overlap = Math.max(0, earlier.start + earlier.items.length - shown.start);
  const kept = earlier.items.slice(0, earlier.items.length - overlap);
  return { items: [...kept, ...shown.items], total: Math.max(shown.total, earlier.total), start: earlier.start };
}

/** Whether items before the shown ones exist. */
export function hasEarlier(page: TimelinePage): boolean {
  return page.start > 0;
}
