//! nn-costs
