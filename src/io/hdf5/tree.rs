//! [`Hdf5File`]: an HDF5 file as a lazy tree of groups and datasets. Listing reads metadata
//! (names, shapes, types, chunking, filters, attributes) only; values are read when a dataset
//! opened as a [`Hdf5Source`] is asked for chunks.

use super::attrs::{read_attributes, AttrValue};
use super::meta::Hdf5DatasetInfo;
use super::source::{open_h5_dataset, open_h5_file, Hdf5Options, Hdf5Source};
use crate::error::{Error, Result};
use hdf5::LocationType;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Groups nested deeper than this are not walked by [`Hdf5File::datasets`] (a guard against
/// link cycles).
const MAX_DEPTH: usize = 64;

/// An HDF5 file opened for reading, as a tree of groups and datasets.
///
/// ```no_run
/// use vastarray::io::hdf5::Hdf5File;
/// let f = Hdf5File::open("run.h5").unwrap();
/// for ds in f.datasets().unwrap() {
///     println!("{} {:?} {} chunks {:?}", ds.path, ds.shape, ds.type_description, ds.chunks);
/// }
/// let temperature = f.open_dataset("/data/temperature").unwrap();
/// ```
pub struct Hdf5File {
    path: PathBuf,
    file: hdf5::File,
}

/// One member of a group.
#[derive(Debug)]
pub enum Hdf5Node {
    /// A subgroup (list it with [`Hdf5Group::members`]).
    Group(Hdf5Group),
    /// A dataset, with its metadata.
    Dataset(Box<Hdf5DatasetInfo>),
    /// Anything else: a named datatype, or a link that cannot be followed (dangling soft
    /// link, external link to a missing file).
    Other {
        /// Absolute path of the member.
        path: String,
        /// What it is, or why it cannot be opened.
        description: String,
    },
}

/// A group of an open HDF5 file.
pub struct Hdf5Group {
    file_path: PathBuf,
    path: String,
    group: hdf5::Group,
}

impl std::fmt::Debug for Hdf5Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hdf5Group")
            .field("file", &self.file_path)
            .field("path", &self.path)
            .finish()
    }
}

/// `parent` + `/` + `name`, without doubling the root's slash.
fn join(parent: &str, name: &str) -> String {
    if parent.ends_with('/') {
        format!("{parent}{name}")
    } else {
        format!("{parent}/{name}")
    }
}

impl Hdf5File {
    /// Opens an HDF5 file for reading (metadata is read on demand).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = open_h5_file(&path)?;
        Ok(Hdf5File { path, file })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The root group `/`.
    pub fn root(&self) -> Result<Hdf5Group> {
        self.group("/")
    }

    /// The group at an absolute path.
    pub fn group(&self, path: &str) -> Result<Hdf5Group> {
        let group = self
            .file
            .group(path)
            .map_err(|e| Error::file(&self.path, format!("no group {path}: {e}")))?;
        Ok(Hdf5Group {
            file_path: self.path.clone(),
            path: path.to_owned(),
            group,
        })
    }

    /// The metadata of the dataset at an absolute path.
    pub fn dataset_info(&self, path: &str) -> Result<Hdf5DatasetInfo> {
        let ds = open_h5_dataset(&self.file, &self.path, path)?;
        Hdf5DatasetInfo::from_dataset(&ds, &self.path, path)
    }

    /// Opens the dataset at an absolute path as a source, with default options.
    pub fn open_dataset(&self, path: &str) -> Result<Hdf5Source> {
        self.open_dataset_with(path, &Hdf5Options::default())
    }

    /// Opens the dataset at an absolute path as a source.
    pub fn open_dataset_with(&self, path: &str, options: &Hdf5Options) -> Result<Hdf5Source> {
        let ds = open_h5_dataset(&self.file, &self.path, path)?;
        Hdf5Source::from_handles(self.file.clone(), ds, &self.path, path, options)
    }

    /// The metadata of every dataset in the file, walking groups depth-first in name order.
    /// Each group is visited once even if several hard links lead to it.
    pub fn datasets(&self) -> Result<Vec<Hdf5DatasetInfo>> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        self.walk(self.root()?, 0, &mut seen, &mut out)?;
        Ok(out)
    }

    fn walk(
        &self,
        group: Hdf5Group,
        depth: usize,
        seen: &mut Vec<hdf5::LocationToken>,
        out: &mut Vec<Hdf5DatasetInfo>,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Ok(());
        }
        if let Ok(info) = group.group.loc_info() {
            if seen.contains(&info.token) {
                return Ok(());
            }
            seen.push(info.token);
        }
        for node in group.members()? {
            match node {
                Hdf5Node::Group(g) => self.walk(g, depth + 1, seen, out)?,
                Hdf5Node::Dataset(d) => out.push(*d),
                Hdf5Node::Other { .. } => {}
            }
        }
        Ok(())
    }
}

impl Hdf5Group {
    /// The group's absolute path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The names of the group's members (links), in name order.
    pub fn member_names(&self) -> Result<Vec<String>> {
        self.group
            .member_names()
            .map_err(|e| Error::file(&self.file_path, format!("listing group {}: {e}", self.path)))
    }

    /// The group's attributes.
    pub fn attributes(&self) -> Result<BTreeMap<String, AttrValue>> {
        read_attributes(&self.group).map_err(|e| {
            Error::file(
                &self.file_path,
                format!("reading attributes of group {}: {e}", self.path),
            )
        })
    }

    /// The group's members: subgroups, datasets (with metadata) and anything else.
    pub fn members(&self) -> Result<Vec<Hdf5Node>> {
        let mut out = Vec::new();
        for name in self.member_names()? {
            let path = join(&self.path, &name);
            let node = match self.group.loc_type_by_name(&name) {
                Ok(LocationType::Group) => match self.group.group(&name) {
                    Ok(group) => Hdf5Node::Group(Hdf5Group {
                        file_path: self.file_path.clone(),
                        path,
                        group,
                    }),
                    Err(e) => Hdf5Node::Other {
                        path,
                        description: format!("group that cannot be opened: {e}"),
                    },
                },
                Ok(LocationType::Dataset) => match self.group.dataset(&name) {
                    Ok(ds) => Hdf5Node::Dataset(Box::new(Hdf5DatasetInfo::from_dataset(
                        &ds,
                        &self.file_path,
                        &path,
                    )?)),
                    Err(e) => Hdf5Node::Other {
                        path,
                        description: format!("dataset that cannot be opened: {e}"),
                    },
                },
                Ok(other) => Hdf5Node::Other {
                    path,
                    description: format!("{other:?}"),
                },
                Err(e) => Hdf5Node::Other {
                    path,
                    description: format!("link that cannot be followed: {e}"),
                },
            };
            out.push(node);
        }
        Ok(out)
    }
}

impl Hdf5DatasetInfo {
    /// Opens this dataset as a source.
    pub fn open(&self, options: &Hdf5Options) -> Result<Hdf5Source> {
        Hdf5Source::open_with(&self.file, &self.path, options)
    }
}
