//! Cost and accuracy figures of a run (nn-chapter's [`nn_chapter::plot`]).

pub use nn_chapter::plot::history;
