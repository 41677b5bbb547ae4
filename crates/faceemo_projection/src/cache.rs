//! Finished maps on disk, keyed by the data and the parameters, so reopening the same
//! release shows its map at once. A file that is corrupt, truncated, from another format
//! version or for other data is ignored (and later overwritten), never trusted.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use ndarray::ArrayView2;

/// Bumped whenever the file layout or the computation changes.
const FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"FEMAP\0\0\x01";

/// A map as stored: one position per row and its quality.
#[derive(Clone, Debug, PartialEq)]
pub struct CachedMap {
    /// Positions, one per row.
    pub layout: Vec<[f32; 2]>,
    /// KL divergence (t-SNE) or NaN.
    pub kl_divergence: f64,
}

/// A folder of cached maps.
#[derive(Clone, Debug)]
pub struct MapCache {
    folder: PathBuf,
}

impl MapCache {
    /// A cache in `folder` (created when first written).
    pub fn new(folder: impl Into<PathBuf>) -> Self {
        Self {
            folder: folder.into(),
        }
    }

    /// `$XDG_CACHE_HOME/faceemo/maps`, else `~/.cache/faceemo/maps`.
    pub fn default_location() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))?;
        Some(base.join("faceemo").join("maps"))
    }

    /// The key of a map of `data` made with `parameters` (method and settings, in words).
    pub fn key(data: ArrayView2<'_, f32>, parameters: &str) -> String {
        let mut hash = StableHash::new();
        hash.write_u64(data.nrows() as u64);
        hash.write_u64(data.ncols() as u64);
        for row in data.rows() {
            for &value in row {
                hash.write_u32(value.to_bits());
            }
        }
        for byte in parameters.bytes() {
            hash.write_u32(u32::from(byte));
        }
        format!("{:016x}{:016x}", hash.lanes[0], hash.lanes[1])
    }

    fn path(&self, key: &str) -> PathBuf {
        self.folder.join(format!("{key}.map"))
    }

    /// The cached map for `key`, if a valid one for `rows` rows is there (a file of any
    /// other length is not read at all).
    pub fn load(&self, key: &str, rows: usize) -> Option<CachedMap> {
        let header = 8 + 4 + 8 + 8;
        let expected = header + rows.checked_mul(8)?;
        let file = std::fs::File::open(self.path(key)).ok()?;
        if file.metadata().ok()?.len() != expected as u64 {
            return None;
        }
        let mut bytes = Vec::with_capacity(expected);
        file.take(expected as u64 + 1)
            .read_to_end(&mut bytes)
            .ok()?;
        if bytes.len() != header + rows * 8 || &bytes[..8] != MAGIC {
            return None;
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().ok()?);
        let stored_rows = u64::from_le_bytes(bytes[12..20].try_into().ok()?);
        if version != FORMAT_VERSION || stored_rows != rows as u64 {
            return None;
        }
        let kl_divergence = f64::from_le_bytes(bytes[20..28].try_into().ok()?);
        let layout: Vec<[f32; 2]> = bytes[header..]
            .chunks_exact(8)
            .map(|pair| {
                let x = f32::from_le_bytes([pair[0], pair[1], pair[2], pair[3]]);
                let y = f32::from_le_bytes([pair[4], pair[5], pair[6], pair[7]]);
                [x, y]
            })
            .collect();
        // A map this crate stored is finite; anything else is damage, not a layout.
        if !layout.iter().flatten().all(|v| v.is_finite()) {
            return None;
        }
        Some(CachedMap {
            layout,
            kl_divergence,
        })
    }

    /// Stores a map under `key` (written to a temporary file of its own beside it, flushed
    /// to disk, then renamed into place: two windows storing at once cannot mix their bytes).
    pub fn store(&self, key: &str, map: &CachedMap) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.folder)?;
        let mut bytes = Vec::with_capacity(28 + map.layout.len() * 8);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&(map.layout.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&map.kl_divergence.to_le_bytes());
        for [x, y] in &map.layout {
            bytes.extend_from_slice(&x.to_le_bytes());
            bytes.extend_from_slice(&y.to_le_bytes());
        }
        let mut partial = tempfile::Builder::new()
            .prefix(&format!(".{key}."))
            .suffix(".part")
            .tempfile_in(&self.folder)?;
        partial.write_all(&bytes)?;
        partial.as_file().sync_all()?;
        partial
            .persist(self.path(key))
            .map(|_| ())
            .map_err(|e| e.error)
    }
}

/// A fixed, platform-independent 128-bit hash (two multiply–rotate lanes); for cache keys,
/// not for security.
struct StableHash {
    lanes: [u64; 2],
}

impl StableHash {
    fn new() -> Self {
        Self {
            lanes: [0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344],
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.write_u64(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.lanes[0] = (self.lanes[0] ^ value)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(31);
        self.lanes[1] = (self.lanes[1] ^ value.rotate_left(17))
            .wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
            .rotate_left(29);
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;

    #[test]
    fn a_stored_map_comes_back_and_other_keys_or_damage_are_ignored() {
        let folder = tempfile::tempdir().expect("tempdir");
        let cache = MapCache::new(folder.path().join("maps"));
        let data = array![[1.0f32, 2.0], [3.0, 4.0]];
        let key = MapCache::key(data.view(), "tsne perplexity=30");
        assert_ne!(key, MapCache::key(data.view(), "tsne perplexity=31"));
        assert_ne!(
            key,
            MapCache::key((&data * 2.0).view(), "tsne perplexity=30")
        );
        let map = CachedMap {
            layout: vec![[0.5, -1.0], [2.0, 3.0]],
            kl_divergence: 1.25,
        };
        assert!(cache.load(&key, 2).is_none());
        cache.store(&key, &map).expect("written");
        assert_eq!(cache.load(&key, 2), Some(map));
        assert!(
            cache.load(&key, 3).is_none(),
            "another row count is another map"
        );
        // Truncated, or from another format version: ignored.
        let path = folder.path().join("maps").join(format!("{key}.map"));
        let bytes = std::fs::read(&path).expect("read");
        std::fs::write(&path, &bytes[..bytes.len() - 3]).expect("truncate");
        assert!(cache.load(&key, 2).is_none());
        let mut other_version = bytes.clone();
        other_version[8] = 99;
        std::fs::write(&path, other_version).expect("write");
        assert!(cache.load(&key, 2).is_none());
        // A NaN where a coordinate was: damage, not a map to draw.
        let mut not_finite = bytes;
        not_finite[28..32].copy_from_slice(&f32::NAN.to_le_bytes());
        std::fs::write(&path, not_finite).expect("write");
        assert!(cache.load(&key, 2).is_none());
    }
}
