//! nn-regularize
