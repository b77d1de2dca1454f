//! Column tables written to and read from Parquet, with the units of every
//! column and the provenance of the file in its key–value metadata.
//!
//! Metadata keys: `cevns.stage`, `cevns.version`, `cevns.params` (JSON),
//! `cevns.inputs` (JSON: role → {path, sha256}), `cevns.units` (JSON:
//! column → unit), `cevns.extra` (JSON, stage-specific facts such as the
//! calibrated Δ). Each Arrow field also carries its unit as field metadata.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::new_empty_array;
use arrow::array::{
    Array, ArrayRef, DictionaryArray, Float64Array, PrimitiveArray, StringArray, UInt32Array,
};
use arrow::compute::concat;
use arrow::datatypes::{ArrowPrimitiveType, Float64Type, Int32Type, UInt32Type};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::arrow_writer::compute_leaves;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use rayon::prelude::*;

use crate::error::{IoError, Result};
use crate::stage::Provenance;

/// Rows per slice handed to a column writer (see [`Table::to_parquet_bytes`]).
const WRITE_SLICE: usize = 64 * 1024;

/// An in-memory table to be written as Parquet.
#[derive(Debug, Default, Clone)]
pub struct Table {
    fields: Vec<Field>,
    arrays: Vec<ArrayRef>,
    units: BTreeMap<String, String>,
}

impl Table {
    /// Empty table.
    pub fn new() -> Self {
        Self::default()
    }

    fn push(self, name: &str, unit: &str, dt: DataType, a: ArrayRef) -> Self {
        self.push_field(name, unit, dt, false, a)
    }

    fn push_field(
        mut self,
        name: &str,
        unit: &str,
        dt: DataType,
        nullable: bool,
        a: ArrayRef,
    ) -> Self {
        let meta = HashMap::from([("unit".to_string(), unit.to_string())]);
        self.fields
            .push(Field::new(name, dt, nullable).with_metadata(meta));
        self.arrays.push(a);
        self.units.insert(name.to_string(), unit.to_string());
        self
    }

    /// Add a float column with its unit (`"1"` for dimensionless).
    pub fn f64(self, name: &str, unit: &str, v: Vec<f64>) -> Self {
        self.push(
            name,
            unit,
            DataType::Float64,
            Arc::new(Float64Array::from(v)),
        )
    }

    /// Add a nullable float column: `None` is an Arrow null (e.g. "no limit
    /// at this mass"), never a sentinel value.
    pub fn f64_opt(self, name: &str, unit: &str, v: Vec<Option<f64>>) -> Self {
        self.push_field(
            name,
            unit,
            DataType::Float64,
            true,
            Arc::new(Float64Array::from(v)),
        )
    }

    /// Add an unsigned integer column.
    pub fn u32(self, name: &str, unit: &str, v: Vec<u32>) -> Self {
        self.push(name, unit, DataType::UInt32, Arc::new(UInt32Array::from(v)))
    }

    /// Add a string column.
    pub fn str(self, name: &str, v: Vec<String>) -> Self {
        self.push(name, "", DataType::Utf8, Arc::new(StringArray::from(v)))
    }

    /// Add a string column from borrowed values (the same column as
    /// [`Table::str`], without one allocation per row).
    pub fn str_ref(self, name: &str, v: Vec<&str>) -> Self {
        self.push(name, "", DataType::Utf8, Arc::new(StringArray::from(v)))
    }

    /// Add a string column built as an Arrow array.
    pub fn str_array(self, name: &str, v: StringArray) -> Self {
        self.push(name, "", DataType::Utf8, Arc::new(v))
    }

    /// Number of rows (0 for a table without columns).
    pub fn num_rows(&self) -> usize {
        self.arrays.first().map_or(0, |a| a.len())
    }

    /// Serialise to Parquet bytes (deterministic: fixed compression, no
    /// timestamps, metadata in a fixed order).
    pub fn to_parquet_bytes(&self, prov: &Provenance) -> Result<Vec<u8>> {
        self.encode(prov, true)
    }

    /// [`Table::to_parquet_bytes`], its columns encoded in parallel or (for
    /// the test that both give the same bytes) one after the other.
    fn encode(&self, prov: &Provenance, parallel: bool) -> Result<Vec<u8>> {
        let err = |msg: String| IoError::Write {
            path: PathBuf::from("<parquet>"),
            msg,
        };
        let units = serde_json::to_string(&self.units).map_err(|e| err(e.to_string()))?;
        let mut kv = prov.key_values();
        kv.push(KeyValue::new("cevns.units".to_string(), units));
        // The same provenance on the Arrow schema, so that pyarrow, polars and
        // pandas users see the `cevns.*` keys (`pq.read_table(f).schema.metadata`).
        let schema_meta: HashMap<String, String> = kv
            .iter()
            .filter_map(|k| Some((k.key.clone(), k.value.clone()?)))
            .collect();
        let schema = Arc::new(Schema::new_with_metadata(self.fields.clone(), schema_meta));
        let rows = RecordBatch::try_new(schema.clone(), self.arrays.clone())
            .map_err(|e| err(e.to_string()))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_statistics_enabled(EnabledStatistics::Chunk)
            // Columns of unique values (rates, weights, Δχ²) gain nothing
            // from a dictionary, and with the default 1 MiB limit the writer
            // hashed 131 072 values per such column before falling back to
            // plain encoding: half of rate-convolve's time. 64 KiB still holds
            // the dictionary of a recoil or mass grid (≤ 8192 values).
            .set_dictionary_page_size_limit(64 * 1024)
            .set_key_value_metadata(Some(kv))
            .set_created_by(format!("cevns-pipeline {}", crate::TOOL_VERSION))
            .build();
        let max_rows = props.max_row_group_row_count().unwrap_or(usize::MAX);
        let batch = props.write_batch_size().max(1);
        let mut buf = Vec::new();
        let mut w =
            ArrowWriter::try_new(&mut buf, schema, Some(props)).map_err(|e| err(e.to_string()))?;
        if !parallel || rows.num_rows() == 0 || rows.num_rows() > max_rows || self.fields.len() < 2
        {
            w.write(&rows).map_err(|e| err(e.to_string()))?;
            w.close().map_err(|e| err(e.to_string()))?;
            return Ok(buf);
        }
        // One row group whose columns are encoded in parallel (the
        // dictionary, statistics and compression work of each column is
        // independent), then appended in schema order: the same bytes as
        // `ArrowWriter::write` of the batch, which encodes one column after
        // the other.
        let (mut file, factory) = w.into_serialized_writer().map_err(|e| err(e.to_string()))?;
        let writers = factory
            .create_column_writers(0)
            .map_err(|e| err(e.to_string()))?;
        if writers.len() != self.fields.len() {
            return Err(err(format!(
                "{} column writers for {} columns (nested columns are not written here)",
                writers.len(),
                self.fields.len()
            )));
        }
        // Each column is handed to its writer in slices of WRITE_SLICE rows:
        // a leaf carries a list of its non-null row indices (8 bytes a row),
        // which for a whole 292 000-row column was most of the encoding
        // time. The writer cuts its input into mini-batches of
        // `write_batch_size` rows and closes pages only between them, so
        // slices that are whole multiples of it give the same bytes.
        let slice = WRITE_SLICE.max(batch) / batch * batch;
        let chunks: Vec<_> = writers
            .into_par_iter()
            .zip(self.fields.par_iter().zip(&self.arrays))
            .map(|(mut cw, (field, array))| {
                let mut at = 0;
                while at < array.len() {
                    let part = array.slice(at, slice.min(array.len() - at));
                    for leaf in compute_leaves(field, &part)? {
                        cw.write(&leaf)?;
                    }
                    at += slice;
                }
                cw.close()
            })
            .collect();
        let mut rg = file.next_row_group().map_err(|e| err(e.to_string()))?;
        for chunk in chunks {
            chunk
                .and_then(|c| c.append_to_row_group(&mut rg))
                .map_err(|e| err(e.to_string()))?;
        }
        rg.close().map_err(|e| err(e.to_string()))?;
        file.close().map_err(|e| err(e.to_string()))?;
        Ok(buf)
    }
}

/// A Parquet table read fully into memory, with typed, checked accessors.
#[derive(Debug)]
pub struct TableReader {
    path: PathBuf,
    batches: Vec<RecordBatch>,
    schema: Arc<Schema>,
    meta: BTreeMap<String, String>,
}

impl TableReader {
    /// Open and read a Parquet file.
    ///
    /// The file is read into memory once; its SHA-256 (recorded for the
    /// provenance of the stage's outputs, see [`crate::fingerprint`]) is
    /// computed from those bytes while the columns decode.
    pub fn open(path: &Path) -> Result<Self> {
        let data = std::fs::read(path).map_err(|err| IoError::Read {
            path: path.to_path_buf(),
            err,
        })?;
        let data = bytes::Bytes::from(data);
        let (sha, table) = rayon::join(
            || crate::fingerprint::sha256_hex(&data),
            || Self::decode(path, data.clone()),
        );
        crate::inputs::record_hash(path, Some(sha));
        table
    }

    /// Decode a Parquet file's bytes (`path` names it in errors).
    fn decode(path: &Path, file: bytes::Bytes) -> Result<Self> {
        let perr = |msg: String| IoError::Parquet {
            path: path.to_path_buf(),
            msg,
        };
        let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::default())
            .map_err(|e| perr(e.to_string()))?;
        // String columns are decoded as dictionaries (their few distinct
        // names once, an integer key per row) instead of one string per row:
        // 480 000 strings for the two name columns of rates.parquet.
        let fields: Vec<Field> = metadata
            .schema()
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Utf8 => f.as_ref().clone().with_data_type(DataType::Dictionary(
                    Box::new(DataType::Int32),
                    Box::new(DataType::Utf8),
                )),
                _ => f.as_ref().clone(),
            })
            .collect();
        let hinted = Arc::new(Schema::new_with_metadata(
            fields,
            metadata.schema().metadata().clone(),
        ));
        let metadata = ArrowReaderMetadata::try_new(
            metadata.metadata().clone(),
            ArrowReaderOptions::new().with_schema(hinted),
        )
        .map_err(|e| perr(e.to_string()))?;
        let mut meta = BTreeMap::new();
        if let Some(kvs) = metadata.metadata().file_metadata().key_value_metadata() {
            for kv in kvs {
                if let Some(v) = &kv.value {
                    meta.insert(kv.key.clone(), v.clone());
                }
            }
        }
        let schema = metadata.schema().clone();
        // One batch per column, the columns decoded in parallel (each with
        // its own view of the bytes): the default 1024-row batches cost an
        // Arrow array per column per 1024 rows, and decoding the 240k-row
        // rates table column after column was most of a downstream stage's
        // start-up.
        let rows = metadata.metadata().file_metadata().num_rows();
        let batch_size = usize::try_from(rows).unwrap_or(0).max(1);
        let columns: Vec<Result<ArrayRef>> = (0..schema.fields().len())
            .into_par_iter()
            .map(|i| {
                let f = file.clone();
                let mask = ProjectionMask::roots(metadata.parquet_schema(), [i]);
                let reader =
                    ParquetRecordBatchReaderBuilder::new_with_metadata(f, metadata.clone())
                        .with_projection(mask)
                        .with_batch_size(batch_size)
                        .build()
                        .map_err(|e| perr(e.to_string()))?;
                let parts = reader
                    .map(|b| b.map(|b| b.column(0).clone()))
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| perr(e.to_string()))?;
                match parts.as_slice() {
                    [] => Ok(new_empty_array(schema.field(i).data_type())),
                    [one] => Ok(one.clone()),
                    many => {
                        let refs: Vec<&dyn Array> = many.iter().map(|a| a.as_ref()).collect();
                        concat(&refs).map_err(|e| perr(e.to_string()))
                    }
                }
            })
            .collect();
        let columns = columns.into_iter().collect::<Result<Vec<_>>>()?;
        let batches =
            vec![RecordBatch::try_new(schema.clone(), columns).map_err(|e| perr(e.to_string()))?];
        Ok(Self {
            path: path.to_path_buf(),
            batches,
            schema,
            meta,
        })
    }

    /// Whether the table has a column `name` (for columns only some
    /// tables carry, e.g. those of a second interaction channel).
    pub fn has(&self, name: &str) -> bool {
        self.schema.field_with_name(name).is_ok()
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }

    /// A metadata value.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta.get(key).map(String::as_str)
    }

    /// Parse a JSON metadata value.
    pub fn meta_json(&self, key: &str) -> Result<serde_json::Value> {
        let raw = self.meta(key).ok_or_else(|| IoError::BadValue {
            path: self.path.clone(),
            what: format!("metadata `{key}`"),
            reason: "absent (was this file written by cevns-pipeline?)".into(),
        })?;
        serde_json::from_str(raw).map_err(|e| IoError::BadValue {
            path: self.path.clone(),
            what: format!("metadata `{key}`"),
            reason: e.to_string(),
        })
    }

    /// The typed provenance extras (`cevns.extra`) of the file.
    pub fn extra<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_value(self.meta_json("cevns.extra")?).map_err(|e| IoError::BadValue {
            path: self.path.clone(),
            what: "metadata `cevns.extra`".into(),
            reason: e.to_string(),
        })
    }

    /// Check that the file was written by the expected stage.
    pub fn expect_stage(&self, stage: &str) -> Result<()> {
        match self.meta("cevns.stage") {
            Some(s) if s == stage => Ok(()),
            other => Err(IoError::BadValue {
                path: self.path.clone(),
                what: "metadata `cevns.stage`".into(),
                reason: format!(
                    "expected a `{stage}` output, found {}",
                    other.unwrap_or("no stage record")
                ),
            }),
        }
    }

    fn columns_ref(&self, name: &str) -> Result<Vec<&ArrayRef>> {
        let idx = self.index(name)?;
        Ok(self.batches.iter().map(|b| b.column(idx)).collect())
    }

    fn index(&self, name: &str) -> Result<usize> {
        self.schema
            .index_of(name)
            .map_err(|_| IoError::MissingColumn {
                path: self.path.clone(),
                column: name.to_string(),
                present: self
                    .schema
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    fn columns(&self, name: &str) -> Result<Vec<ArrayRef>> {
        let idx = self.index(name)?;
        Ok(self.batches.iter().map(|b| b.column(idx).clone()).collect())
    }

    fn type_err(&self, name: &str, a: &dyn Array, expected: &str) -> IoError {
        IoError::ColumnType {
            path: self.path.clone(),
            column: name.to_string(),
            found: match a.data_type() {
                DataType::Dictionary(_, v) if **v == DataType::Utf8 => "Utf8".to_string(),
                t => t.to_string(),
            },
            expected: expected.to_string(),
        }
    }

    /// A float column; every value must be finite.
    pub fn f64(&self, name: &str) -> Result<Vec<f64>> {
        let out = self.f64_nonnull(name)?;
        self.check_finite(name, &out)?;
        Ok(out)
    }

    /// [`TableReader::f64`] without a copy: the column's values as stored
    /// (a file is read as one batch; several batches are joined), every
    /// value checked finite. For the long tables (rates: 240k rows) whose
    /// copies were most of a stage's memory traffic.
    pub fn f64_ref(&self, name: &str) -> Result<Cow<'_, [f64]>> {
        let out = self.values::<Float64Type>(name, "Float64")?;
        self.check_finite(name, &out)?;
        Ok(out)
    }

    /// A float column without nulls whose values may be NaN or infinite
    /// (e.g. Δχ² at couplings not evaluated or not resolved).
    pub fn f64_nonnull(&self, name: &str) -> Result<Vec<f64>> {
        Ok(self.values::<Float64Type>(name, "Float64")?.into_owned())
    }

    /// The values of a primitive column without nulls, borrowed when the
    /// file is one batch (as [`TableReader::open`] reads it).
    fn values<T: ArrowPrimitiveType>(
        &self,
        name: &str,
        expected: &str,
    ) -> Result<Cow<'_, [T::Native]>> {
        let cols = self.columns_ref(name)?;
        let mut parts = Vec::with_capacity(cols.len());
        for a in cols {
            let arr = a
                .as_any()
                .downcast_ref::<PrimitiveArray<T>>()
                .ok_or_else(|| self.type_err(name, a.as_ref(), expected))?;
            if arr.null_count() > 0 {
                return Err(IoError::BadValue {
                    path: self.path.clone(),
                    what: format!("column `{name}`"),
                    reason: "contains nulls".into(),
                });
            }
            parts.push(&arr.values()[..]);
        }
        Ok(match parts.as_slice() {
            [] => Cow::Borrowed(&[]),
            [one] => Cow::Borrowed(one),
            _ => Cow::Owned(parts.concat()),
        })
    }

    fn check_finite(&self, name: &str, v: &[f64]) -> Result<()> {
        // Blocks without an early exit (vectorised), the row found only in
        // a failing block.
        let bad_block = v
            .chunks(1024)
            .position(|c| !c.iter().fold(true, |ok, x| ok & x.is_finite()));
        let Some(block) = bad_block else {
            return Ok(());
        };
        match v[block * 1024..]
            .iter()
            .position(|x| !x.is_finite())
            .map(|i| block * 1024 + i)
        {
            Some(row) => Err(IoError::BadValue {
                path: self.path.clone(),
                what: format!("column `{name}` row {row}"),
                reason: format!("value {} is not finite", v[row]),
            }),
            None => Ok(()),
        }
    }

    /// A nullable float column: nulls become `None`; every non-null value
    /// must be finite.
    pub fn f64_opt(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let mut out = Vec::with_capacity(self.num_rows());
        for a in self.columns(name)? {
            let arr = a
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or_else(|| self.type_err(name, &a, "Float64"))?;
            out.extend(arr.iter());
        }
        if let Some(row) = out.iter().position(|v| v.is_some_and(|x| !x.is_finite())) {
            return Err(IoError::BadValue {
                path: self.path.clone(),
                what: format!("column `{name}` row {row}"),
                reason: format!("value {:?} is not finite", out[row]),
            });
        }
        Ok(out)
    }

    /// The unit of a column (Arrow field metadata `unit`).
    pub fn unit(&self, name: &str) -> Option<&str> {
        let f = self.schema.field_with_name(name).ok()?;
        f.metadata().get("unit").map(String::as_str)
    }

    /// A u32 column.
    pub fn u32(&self, name: &str) -> Result<Vec<u32>> {
        Ok(self.u32_ref(name)?.into_owned())
    }

    /// [`TableReader::u32`] without a copy (see [`TableReader::f64_ref`]).
    pub fn u32_ref(&self, name: &str) -> Result<Cow<'_, [u32]>> {
        self.values::<UInt32Type>(name, "UInt32")
    }

    /// A string column (a null reads as "").
    pub fn str(&self, name: &str) -> Result<Vec<String>> {
        let (values, codes) = self.str_codes(name)?;
        Ok(codes.iter().map(|&c| values[c as usize].clone()).collect())
    }

    /// A string column as names and one key per row into them, the keys
    /// borrowed from the decoded dictionary when the column is one (no
    /// per-row work). Equal keys name equal strings; unlike
    /// [`TableReader::str_codes`], two keys may name the same string and
    /// names may go unused.
    pub fn str_keys(&self, name: &str) -> Result<(Vec<String>, Cow<'_, [i32]>)> {
        let cols = self.columns_ref(name)?;
        if let [a] = cols[..]
            && let Some(dict) = a.as_any().downcast_ref::<DictionaryArray<Int32Type>>()
            && let Some(names) = dict.values().as_any().downcast_ref::<StringArray>()
            && dict.keys().null_count() == 0
        {
            let keys = &dict.keys().values()[..];
            let n = i32::try_from(names.len()).unwrap_or(i32::MAX);
            let (lo, hi) = keys
                .iter()
                .fold((0, -1), |(lo, hi): (i32, i32), &k| (lo.min(k), hi.max(k)));
            if lo >= 0 && hi < n {
                let names = (0..names.len())
                    .map(|i| names.value(i).to_string())
                    .collect();
                return Ok((names, Cow::Borrowed(keys)));
            }
        }
        let (names, codes) = self.str_codes(name)?;
        let keys = codes
            .into_iter()
            .map(|c| i32::try_from(c).unwrap_or(i32::MAX))
            .collect();
        Ok((names, Cow::Owned(keys)))
    }

    /// A string column as its distinct values (in order of first
    /// appearance) and each row's index into them: one allocation per
    /// distinct value instead of one per row, for long tables of few names.
    /// (A null reads as "".)
    pub fn str_codes(&self, name: &str) -> Result<(Vec<String>, Vec<u32>)> {
        let mut values: Vec<String> = Vec::new();
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut codes = Vec::with_capacity(self.num_rows());
        let mut code_of = |v: &str, values: &mut Vec<String>| -> Result<u32> {
            if let Some(&c) = index.get(v) {
                return Ok(c);
            }
            let c = u32::try_from(values.len()).map_err(|_| IoError::BadValue {
                path: self.path.clone(),
                what: format!("column `{name}`"),
                reason: "more than 2^32 distinct values".into(),
            })?;
            values.push(v.to_string());
            index.insert(v.to_string(), c);
            Ok(c)
        };
        for a in self.columns_ref(name)? {
            if let Some(dict) = a.as_any().downcast_ref::<DictionaryArray<Int32Type>>() {
                let names = dict
                    .values()
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .ok_or_else(|| self.type_err(name, a.as_ref(), "Utf8"))?;
                // The code of each dictionary entry, assigned when a row
                // first uses it (so that codes follow first appearance).
                let mut by_key: Vec<Option<u32>> = vec![None; names.len()];
                let keys = dict.keys();
                for (i, &k) in keys.values().iter().enumerate() {
                    if keys.is_null(i) {
                        codes.push(code_of("", &mut values)?);
                        continue;
                    }
                    let k = usize::try_from(k).unwrap_or(usize::MAX);
                    let slot = by_key.get_mut(k).ok_or_else(|| IoError::BadValue {
                        path: self.path.clone(),
                        what: format!("column `{name}` row {i}"),
                        reason: "dictionary key out of range".into(),
                    })?;
                    let c = match *slot {
                        Some(c) => c,
                        None => {
                            let c = code_of(names.value(k), &mut values)?;
                            *slot = Some(c);
                            c
                        }
                    };
                    codes.push(c);
                }
            } else {
                let arr = a
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .ok_or_else(|| self.type_err(name, a.as_ref(), "Utf8"))?;
                for v in arr.iter() {
                    codes.push(code_of(v.unwrap_or(""), &mut values)?);
                }
            }
        }
        Ok((values, codes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `t` written as Parquet to a temporary file and read back (the
    /// directory lives as long as the returned guard).
    fn read_back(t: &Table, prov: &Provenance) -> (tempfile::TempDir, TableReader) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.parquet");
        std::fs::write(&p, t.to_parquet_bytes(prov).unwrap()).unwrap();
        let r = TableReader::open(&p).unwrap();
        (dir, r)
    }

    #[test]
    fn roundtrip_with_metadata_and_determinism() {
        let t = Table::new()
            .f64("x_kev", "keV", vec![1.0, 2.5])
            .str("s", vec!["a".into(), "b".into()])
            .u32("i", "1", vec![3, 4]);
        let prov = Provenance::new("test-stage").param("k", 0.162);
        let b1 = t.to_parquet_bytes(&prov).unwrap();
        let b2 = t.to_parquet_bytes(&prov).unwrap();
        assert_eq!(b1, b2, "same input must give identical bytes");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.parquet");
        std::fs::write(&p, &b1).unwrap();
        let r = TableReader::open(&p).unwrap();
        assert_eq!(r.f64("x_kev").unwrap(), vec![1.0, 2.5]);
        assert_eq!(r.str("s").unwrap(), vec!["a", "b"]);
        assert_eq!(r.u32("i").unwrap(), vec![3, 4]);
        r.expect_stage("test-stage").unwrap();
        assert!(r.expect_stage("other").is_err());
        assert_eq!(r.meta_json("cevns.units").unwrap()["x_kev"], "keV");
        assert_eq!(r.meta_json("cevns.params").unwrap()["k"], 0.162);
        match r.f64("nope") {
            Err(IoError::MissingColumn { column, .. }) => assert_eq!(column, "nope"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(r.f64("s"), Err(IoError::ColumnType { .. })));
        assert_eq!(r.unit("x_kev"), Some("keV"));
        // The borrowing accessors: the file is one batch, nothing copied.
        assert!(matches!(
            r.f64_ref("x_kev").unwrap(),
            Cow::Borrowed([1.0, 2.5])
        ));
        assert!(matches!(r.u32_ref("i").unwrap(), Cow::Borrowed([3, 4])));
        assert!(matches!(
            r.u32_ref("x_kev"),
            Err(IoError::ColumnType { .. })
        ));
    }

    #[test]
    fn parallel_column_encoding_gives_the_serial_writers_bytes() {
        // Over two WRITE_SLICEs and 1 MiB pages per column, with a
        // dictionary fallback and nulls inside the slices.
        let n = 2 * WRITE_SLICE + 12_345;
        let t = Table::new()
            .str_ref("s", (0..n).map(|i| ["8B", "hep", "pp"][i % 3]).collect())
            .u32("i", "1", (0..n as u32).collect())
            .f64(
                "x",
                "keV",
                (0..n).map(|i| (i as f64 * 0.37).sin()).collect(),
            )
            .f64_opt(
                "g",
                "1",
                (0..n).map(|i| (i % 7 != 0).then_some(i as f64)).collect(),
            );
        let prov = Provenance::new("test-stage");
        let par = t.encode(&prov, true).unwrap();
        assert_eq!(par, t.encode(&prov, false).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.parquet");
        std::fs::write(&p, &par).unwrap();
        // Read back (the columns decode in parallel, each from its own open
        // file): every value where it was written.
        let r = TableReader::open(&p).unwrap();
        assert_eq!(r.num_rows(), n);
        let s = r.str("s").unwrap();
        assert!((0..n).all(|i| s[i] == ["8B", "hep", "pp"][i % 3]));
        assert_eq!(*r.u32_ref("i").unwrap(), (0..n as u32).collect::<Vec<_>>());
        let x = r.f64_ref("x").unwrap();
        assert!((0..n).all(|i| x[i] == (i as f64 * 0.37).sin()));
        let g = r.f64_opt("g").unwrap();
        assert!((0..n).all(|i| g[i] == (i % 7 != 0).then_some(i as f64)));
        assert_eq!(r.unit("x"), Some("keV"));
    }

    #[test]
    fn finite_readers_reject_nan_and_nonnull_keeps_it() {
        let t = Table::new().f64("d", "1", vec![0.5, f64::NAN]);
        let (_dir, r) = read_back(&t, &Provenance::new("s"));
        for e in [r.f64("d").err(), r.f64_ref("d").err()] {
            match e {
                Some(IoError::BadValue { what, .. }) => assert_eq!(what, "column `d` row 1"),
                other => panic!("{other:?}"),
            }
        }
        assert!(r.f64_nonnull("d").unwrap()[1].is_nan());
    }

    #[test]
    fn provenance_is_on_the_arrow_schema_and_nulls_roundtrip() {
        let t = Table::new().f64_opt("g90", "1", vec![Some(1e-5), None]);
        let prov = Provenance::new("test-stage").param("k", 1);
        let bytes = t.to_parquet_bytes(&prov).unwrap();
        // Read the Arrow schema as pyarrow does (from the embedded
        // ARROW:schema), not the Parquet footer.
        let b = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes)).unwrap();
        let schema = b.schema();
        assert_eq!(
            schema.metadata().get("cevns.stage").map(String::as_str),
            Some("test-stage")
        );
        assert!(schema.metadata().contains_key("cevns.params"));
        assert!(schema.metadata().contains_key("cevns.units"));
        let f = schema.field_with_name("g90").unwrap();
        assert!(f.is_nullable());
        assert_eq!(f.metadata().get("unit").map(String::as_str), Some("1"));
        let (_dir, r) = read_back(&t, &prov);
        assert_eq!(r.f64_opt("g90").unwrap(), vec![Some(1e-5), None]);
        assert!(r.f64("g90").is_err(), "non-null reader rejects nulls");
    }

    #[test]
    fn str_codes_rebuild_the_column() {
        let col: Vec<String> = ["pp", "pp", "8B", "pp", "hep", "8B", "8B"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let t = Table::new().str("s", col.clone());
        let (_dir, r) = read_back(&t, &Provenance::new("s"));
        let (values, codes) = r.str_codes("s").unwrap();
        assert_eq!(values, ["pp", "8B", "hep"]);
        let back: Vec<String> = codes.iter().map(|&c| values[c as usize].clone()).collect();
        assert_eq!(back, col);
        assert_eq!(r.str("s").unwrap(), col);
        assert!(r.str_codes("missing").is_err());
        // Keys borrowed from the dictionary name the same rows.
        let (names, keys) = r.str_keys("s").unwrap();
        assert!(matches!(keys, Cow::Borrowed(_)));
        let back: Vec<&str> = keys.iter().map(|&k| names[k as usize].as_str()).collect();
        assert_eq!(back, col);
        // A string column read where a number is expected names its type
        // as written (Utf8), not as decoded (a dictionary).
        match r.f64_ref("s") {
            Err(IoError::ColumnType { found, .. }) => assert_eq!(found, "Utf8"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn provenance_hash_is_of_the_bytes_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.parquet");
        let t = Table::new().f64("x", "1", vec![1.0, 2.0]);
        let bytes = t.to_parquet_bytes(&Provenance::new("s")).unwrap();
        std::fs::write(&p, &bytes).unwrap();
        TableReader::open(&p).unwrap();
        // The file changes after the stage read it: its provenance keeps the
        // hash of what was read, a fresh hash (the runner's) sees the change.
        std::fs::write(&p, b"changed").unwrap();
        let read = crate::fingerprint::sha256_hex(&bytes);
        assert_eq!(crate::fingerprint::input_sha256(&p).unwrap(), read);
        assert_eq!(
            crate::fingerprint::file_sha256(&p).unwrap(),
            crate::fingerprint::sha256_hex(b"changed")
        );
    }

    #[test]
    fn strings_beyond_the_dictionary_limit_round_trip() {
        // 30 000 distinct names overflow the 64 KiB dictionary page: the
        // writer falls back to plain pages, and the reader, asked for a
        // dictionary, must still give every row back.
        let col: Vec<String> = (0..30_000).map(|i| format!("name-{i:07}")).collect();
        let mixed: Vec<String> = col.iter().chain(col.iter().take(5)).cloned().collect();
        let t = Table::new().str("s", mixed.clone());
        let (_dir, r) = read_back(&t, &Provenance::new("s"));
        assert_eq!(r.str("s").unwrap(), mixed);
        let (values, codes) = r.str_codes("s").unwrap();
        assert_eq!(values, col);
        assert_eq!(codes[30_000..], [0, 1, 2, 3, 4]);
        let (names, keys) = r.str_keys("s").unwrap();
        let back: Vec<String> = keys.iter().map(|&k| names[k as usize].clone()).collect();
        assert_eq!(back, mixed);
    }

    #[test]
    fn nan_is_rejected_with_row() {
        let t = Table::new().f64("x", "1", vec![1.0, f64::NAN]);
        let (_dir, r) = read_back(&t, &Provenance::new("s"));
        let e = r.f64("x").unwrap_err().to_string();
        assert!(e.contains("row 1"), "{e}");
    }
}
