// Links between the data pages (referentials, review), in one place so that neither page imports the other.
import { pages } from './navigation.ts';

export const recordPath = (referential: string, goldenId: string, asOf?: Date) =>
  `${pages.referentials.path}/${encodeURIComponent(referential)}/${encodeURIComponent(goldenId)}${asOf ? `?asOf=${encodeURIComponent(asOf.toISOString())}` : ''}`;

export const reviewItemPath = (referential: string, id: string, done?: string) => `${pages.review.path}/${encodeURIComponent(referential)}/${id}${done ? `?done=${done}` : ''}`;

export const unmergePath = (referential: string, decisionId: string) => `${pages.review.path}/${encodeURIComponent(referential)}/merges/${decisionId}/unmerge`;
