/**
 * The corpus store's schema: one embedded DuckDB file holding any number of runs (backbone × layers × SAE ×
 * options × engine version) over the clips of a corpus. It keeps what every analysis needs without running the
 * model again: per clip its identity and status, per (layer, clip, feature that fired) the feature's max,
 * arg-max frame, active frames and sum, and per (layer, clip) the reconstruction sums from which the corpus
 * metrics (FVE included, exactly) are recombined. Users open it from Python (`duckdb.connect(path,
 * read_only=True)`); the README documents these tables.
 *
 * Conventions: `layer` is 1-based (the output of block n); `frame` counts 20 ms SAE frames from the clip's
 * start; a feature "fires" in a frame when its code is non-zero.
 */

/** Bumped when the tables change shape; a store with another version is refused with a clear message. */
export const SCHEMA_VERSION = 2;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS store_info (
  key VARCHAR PRIMARY KEY,
  value VARCHAR NOT NULL
);

-- One row per run: what ran, with which SAE, mode and options.
CREATE TABLE IF NOT EXISTS runs (
  run_id VARCHAR PRIMARY KEY,           -- a short hash of the run identity below
  backbone VARCHAR NOT NULL,            -- registry id, e.g. whisper-small
  weights VARCHAR NOT NULL,             -- identity of the backbone weights (folder, sizes, times)
  layers INTEGER[] NOT NULL,            -- the layers run, ascending
  sae VARCHAR NOT NULL,                 -- where each layer's SAE came from (a folder of layer_<n>/ or a file)
  sae_sha256 JSON NOT NULL,             -- {"<layer>": "<sha256 of ae.pt>"}
  mode VARCHAR NOT NULL,                -- threshold | batch-topk (batch top-k per clip)
  options JSON NOT NULL,                -- tap, normalizeInput, maxHubertSeconds, ...
  engine_version VARCHAR NOT NULL,
  d_model INTEGER NOT NULL,
  dict_size INTEGER NOT NULL,
  k INTEGER NOT NULL,
  notes JSON NOT NULL,                  -- ["..."]: what the user should know (mode fallback, L0 far from k)
  created_at TIMESTAMP NOT NULL
);

-- One row per clip of the corpus and run. A failed clip keeps its error and is left out of every statistic.
CREATE TABLE IF NOT EXISTS clips (
  run_id VARCHAR NOT NULL,
  clip_id INTEGER NOT NULL,             -- dense 0..n-1 within the run, stable across re-runs of the corpus
  path VARCHAR NOT NULL,                -- as resolved (absolute)
  domain VARCHAR NOT NULL,              -- speech / sounds / music, or any name
  dataset VARCHAR,                      -- optional
  start_s DOUBLE,                       -- segment of a longer file, or NULL for the whole file
  end_s DOUBLE,
  duration_s DOUBLE,                    -- of the audio analysed
  frames INTEGER,                       -- SAE frames (50 per second)
  content_hash VARCHAR NOT NULL,        -- sha256 of the file's bytes (changes trigger a re-run)
  status VARCHAR NOT NULL,              -- done | failed
  error VARCHAR,                        -- for failed clips
  metadata JSON NOT NULL,               -- the manifest's other columns
  PRIMARY KEY (run_id, clip_id)
);

-- Per (layer, clip, feature) for every feature that fired at least once in the clip.
CREATE TABLE IF NOT EXISTS clip_features (
  run_id VARCHAR NOT NULL,
  layer SMALLINT NOT NULL,
  clip_id INTEGER NOT NULL,
  feature INTEGER NOT NULL,
  max_act FLOAT NOT NULL,               -- max over frames of the code
  argmax_frame INTEGER NOT NULL,        -- first frame where the max is reached
  active_frames INTEGER NOT NULL,       -- frames where the code is non-zero
  sum_act DOUBLE NOT NULL               -- sum of the codes over frames
);

-- Per (layer, clip): the sums the reconstruction metrics are made of (x = activation, x̂ = reconstruction).
CREATE TABLE IF NOT EXISTS clip_recon (
  run_id VARCHAR NOT NULL,
  layer SMALLINT NOT NULL,
  clip_id INTEGER NOT NULL,
  frames INTEGER NOT NULL,
  zero_norm_frames INTEGER NOT NULL,    -- frames with ‖x‖ = 0 (left out of the directed means)
  sum_l0 DOUBLE NOT NULL,               -- Σ_t #{j : f_tj ≠ 0}
  sum_sq_err DOUBLE NOT NULL,           -- Σ_t ‖x − x̂‖²
  sum_err DOUBLE NOT NULL,              -- Σ_t ‖x − x̂‖
  sum_rel_err DOUBLE NOT NULL,          -- Σ_t ‖x − x̂‖ / ‖x‖ over frames with ‖x‖ > 0
  sum_sq_norm DOUBLE NOT NULL,          -- Σ_t ‖x‖²
  sum_cosine DOUBLE NOT NULL,           -- Σ_t cos(x, x̂) over frames with ‖x‖ > 0
  sum_norm_ratio DOUBLE NOT NULL,       -- Σ_t ‖x̂‖ / ‖x‖ over frames with ‖x‖ > 0
  sum_x DOUBLE[] NOT NULL,              -- [d] Σ_t x_td (FVE: Σ_d Var(x_d) = sum_sq_norm/n − Σ_d (sum_x_d/n)²)
  sum_res DOUBLE[] NOT NULL             -- [d] Σ_t (x − x̂)_td (the same with sum_sq_err for the residual)
);

-- Per (layer, clip, frame, feature that fired): the code itself, for the frame-level analyses (duplicates,
-- coverage, interval label search). Only runs made with --keep-frame-codes fill it (options.keepFrameCodes).
CREATE TABLE IF NOT EXISTS frame_codes (
  run_id VARCHAR NOT NULL,
  layer SMALLINT NOT NULL,
  clip_id INTEGER NOT NULL,
  frame INTEGER NOT NULL,               -- SAE frame of the clip (20 ms each)
  feature INTEGER NOT NULL,
  value FLOAT NOT NULL                  -- the non-zero code
);
`;
