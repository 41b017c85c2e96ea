//! The index's directory: tantivy's memory-mapped directory, except that small reads of
//! the document store go through `pread`.
//!
//! A search reads its hits' stored documents, and matching reads its candidates': a few
//! kilobytes each, at random places in stores of hundreds of megabytes. Through a memory
//! map, each such read maps the page-cache folio around it into the process (on current
//! kernels a folio of up to a megabyte), so after a few thousand searches nearly the whole
//! store counted as the server's resident memory although it was read a few kilobytes at a
//! time. Read with `pread`, the same bytes come from the same page cache without being
//! mapped. Reads larger than [`SMALL_READ`] (the store's skip index, a merge stacking a
//! whole store) still use the map, so they do not copy whole stores onto the heap. Postings,
//! positions, term dictionaries and fast fields stay mapped: a search walks them.

use std::fs::File;
use std::io;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tantivy::HasLen;
use tantivy::directory::error::{
    DeleteError, LockError, OpenDirectoryError, OpenReadError, OpenWriteError,
};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes, WatchCallback,
    WatchHandle, WritePtr,
};

/// Reads up to this many bytes go through `pread` (a document-store block is 4 KiB
/// compressed, see `DOCSTORE_BLOCK_SIZE`; a large document's block can be more).
const SMALL_READ: usize = 256 << 10;

/// [`MmapDirectory`] with the document stores read by `pread` (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct IndexDirectory {
    mapped: MmapDirectory,
    root: PathBuf,
}

impl IndexDirectory {
    /// Opens the directory `root`, which must exist.
    pub(crate) fn open(root: &Path) -> Result<IndexDirectory, OpenDirectoryError> {
        Ok(IndexDirectory {
            mapped: MmapDirectory::open(root)?,
            root: root.to_path_buf(),
        })
    }
}

/// A document store: small reads by `pread`, large ones from the map.
#[derive(Debug)]
struct StoreFile {
    file: File,
    mapped: Arc<dyn FileHandle>,
}

impl HasLen for StoreFile {
    fn len(&self) -> usize {
        self.mapped.len()
    }
}

impl FileHandle for StoreFile {
    fn read_bytes(&self, range: Range<usize>) -> io::Result<OwnedBytes> {
        if range.len() > SMALL_READ {
            return self.mapped.read_bytes(range);
        }
        if range.end > self.len() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "read of bytes {}..{} past the end of a {}-byte store",
                    range.start,
                    range.end,
                    self.len()
                ),
            ));
        }
        let mut buf = vec![0u8; range.len()];
        self.file.read_exact_at(&mut buf, range.start as u64)?;
        Ok(OwnedBytes::new(buf))
    }
}

impl Directory for IndexDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        let mapped = self.mapped.get_file_handle(path)?;
        if path.extension().is_none_or(|e| e != "store") || mapped.len() == 0 {
            return Ok(mapped);
        }
        let file = File::open(self.root.join(path))
            .map_err(|e| OpenReadError::wrap_io_error(e, path.to_path_buf()))?;
        Ok(Arc::new(StoreFile { file, mapped }))
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.mapped.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.mapped.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.mapped.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.mapped.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.mapped.atomic_write(path, data)
    }

    fn sync_directory(&self) -> io::Result<()> {
        self.mapped.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.mapped.acquire_lock(lock)
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.mapped.watch(watch_callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use tantivy::directory::TerminatingWrite;

    #[test]
    fn a_store_reads_the_same_bytes_by_pread_and_by_map_and_refuses_reads_past_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let d = IndexDirectory::open(dir.path()).unwrap();
        let bytes: Vec<u8> = (0..(SMALL_READ * 3)).map(|i| (i * 7 % 251) as u8).collect();
        for name in ["seg.store", "seg.idx"] {
            let mut w = d.open_write(Path::new(name)).unwrap();
            w.write_all(&bytes).unwrap();
            w.terminate().unwrap();
        }
        let store = d.get_file_handle(Path::new("seg.store")).unwrap();
        let postings = d.get_file_handle(Path::new("seg.idx")).unwrap();
        assert_eq!(store.len(), bytes.len());
        for range in [
            0..1,
            4093..8200,
            bytes.len() - 10..bytes.len(),
            10..10 + SMALL_READ,
            5..5 + SMALL_READ + 1,
            0..bytes.len(),
        ] {
            assert_eq!(
                store.read_bytes(range.clone()).unwrap().as_slice(),
                &bytes[range.clone()],
                "{range:?}"
            );
            assert_eq!(
                postings.read_bytes(range.clone()).unwrap().as_slice(),
                &bytes[range.clone()]
            );
        }
        let past = store
            .read_bytes(bytes.len() - 2..bytes.len() + 2)
            .unwrap_err();
        assert_eq!(past.kind(), io::ErrorKind::UnexpectedEof);
        assert!(matches!(
            d.get_file_handle(Path::new("absent.store")),
            Err(OpenReadError::FileDoesNotExist(_))
        ));
    }
}
