//! Loading the data set for the subcommands, split as the book does by nn-train's [`DataSet`].

use anyhow::Result;

use crate::data_source::DataSource;

pub use nn_train::DataSet;

/// Loads the data set `source` names and holds out the last `--holdout` training images (by
/// default MNIST's 10,000, or a sixth of any other training file) for validation.
pub fn load(source: &DataSource) -> Result<DataSet> {
    let located = source.locate()?;
    Ok(DataSet::load(
        located.files,
        located.origin,
        source.holdout,
    )?)
}
