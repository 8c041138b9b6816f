/**
 * The messages between the host and the two sidebar webviews: the Feature search view and the Feature page
 * panel. Discriminated unions on `type`; requests carry an `id` and are answered by a reply with the same id
 * (or `failed`). Binary data (the search columns, result ids, audio) crosses as typed arrays. Type-only: the
 * webviews import this file's types and nothing else from the host.
 */
import type { FeatureDuplicatesView, FeatureProfileView } from '../../shared/jobProtocol.ts';
import type { FeatureStatsData, NeighbourFeature } from '../featurePage/data.ts';
import type { FeatureColumns, FeatureQuery } from './search.ts';

// ------------------------------------------------------------------------------------------- search view

/** The layer the search view shows, with the columns (FeatureColumns but `count`) it draws rows and sparklines from. */
export interface SearchLayer extends Omit<FeatureColumns, 'count'> {
  storePath: string;
  storeName: string;
  runId: string;
  backbone: string;
  layer: number;
  dictSize: number;
  /** e.g. "Another process is writing this store: shown read-only as last read." */
  readOnlyNote?: string;
  /** feature → annotation name, for annotated features */
  names: Record<number, string>;
}

export type SearchQueryMessage = Omit<FeatureQuery, 'within'> & { inSelection?: boolean };

export type SearchToHost =
  | { type: 'ready' }
  | { type: 'search'; seq: number; query: SearchQueryMessage }
  | { type: 'open'; feature: number }
  | { type: 'startRun' };

export type HostToSearch =
  /** layer undefined: nothing to search; `message` says why and what to do */
  | { type: 'layer'; layer: SearchLayer | undefined; message?: string }
  | { type: 'results'; seq: number; features: Int32Array; problems: string[]; selectionNote?: string; elapsedMs: number }
  | { type: 'names'; names: Record<number, string> };

// ------------------------------------------------------------------------------------------- feature page

export interface AnnotationData {
  name: string;
  notes: string;
  tags: string[];
  updatedAt: number | null;
}

export interface FeaturePageData {
  storePath: string;
  stats: FeatureStatsData;
  /** name per feature id of the annotated neighbours */
  names: Record<number, string>;
  nearest: { features: NeighbourFeature[] } | { note: string };
  /** The acoustic profile and duplicates, when computed before for this feature and run state. */
  profile?: FeatureProfileView;
  duplicates?: FeatureDuplicatesView;
  /** Why the acoustic profile cannot be computed here (an untrusted workspace), when it cannot. */
  profileBlocked?: string;
  annotation: AnnotationData;
  readOnlyNote?: string;
  /** where the annotations are kept */
  journalPath: string;
  loadMs: number;
}

export type PageToHost =
  | { type: 'ready' }
  | { type: 'play'; id: number; rank: number }
  | { type: 'openAt'; id: number; rank: number }
  | { type: 'annotate'; id: number; name: string; notes: string; tags: string[] }
  | { type: 'openFeature'; feature: number }
  | { type: 'receptiveField'; id: number }
  /** Long analyses run as jobs: answered by `jobProgress` messages, then `profile` / `duplicates` or `failed`. */
  | { type: 'profile'; id: number }
  | { type: 'duplicates'; id: number }
  | { type: 'cancelJob'; id: number };

export type HostToPage =
  | { type: 'page'; data: FeaturePageData }
  | { type: 'pageFailed'; message: string }
  | { type: 'snippet'; id: number; samples: Float32Array; sampleRateHz: number; startS: number; peakS: number }
  | { type: 'opened'; id: number; note?: string }
  | { type: 'saved'; id: number; updatedAt: number | null }
  | { type: 'annotation'; annotation: AnnotationData }
  | { type: 'failed'; id: number; message: string }
  /** The mean log-mel window around the feature's maxima in its top clips; `mean` is [nMels, windowFrames] row-major, NaN where no window covers. */
  | { type: 'receptiveField'; id: number; nMels: number; windowFrames: number; centreColumn: number; mean: Float32Array; windows: number; notes: string[] }
  | { type: 'jobProgress'; id: number; message: string }
  | { type: 'profile'; id: number; profile: FeatureProfileView }
  | { type: 'duplicates'; id: number; duplicates: FeatureDuplicatesView };

export function assertNever(x: never): never {
  throw new Error(`unexpected message ${JSON.stringify(x)}`);
}
