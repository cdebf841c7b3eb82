//! nn-data
