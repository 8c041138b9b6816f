/** `audiosae corpus …`: corpus runs into a store, and the analyses over it. */
import { verbs as analyses } from './analyses.ts';
import { verbs as cooccurrence } from './duplicates.ts';
import * as exportTable from './export.ts';
import * as labelSearch from './labelSearch.ts';
import * as merge from './merge.ts';
import * as profile from './profile.ts';
import * as run from './run.ts';
import * as slurm from './slurm.ts';
import * as status from './status.ts';
import * as tsne from './tsne.ts';
import * as windows from './windows.ts';

export const spec = { name: 'corpus', summary: 'Run a corpus of clips into a DuckDB store (locally or sharded on a cluster) and analyse its features: metrics, dead features, top clips, statistics, classification, receptive fields, the feature map, duplicates, label search, acoustic profiles.' };
export const verbs = [run, ...analyses, ...cooccurrence, labelSearch, exportTable, merge, slurm, status, windows, profile, tsne];
