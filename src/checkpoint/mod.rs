//! Checkpoints: folding the committed delta into a new immutable base image.
//!
//! Not built yet (issue "Durability that survives anything"). Until then the base image is
//! empty and the whole graph lives in the delta, rebuilt from the WAL at open. The seam is
//! `storage::Graph` (what a checkpoint reads) and `dir::Manifest` (what it switches).
