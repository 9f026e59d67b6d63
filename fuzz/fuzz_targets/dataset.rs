//! The dataset readers (`--data`, `--train/--dev/--test`): CSV, TSV and JSON Lines with default
//! or named columns; any bytes give rows or an error naming the line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rticket::data::{Columns, TableFormat, parse_table};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, table)) = data.split_first() else { return };
    let format = [TableFormat::Csv, TableFormat::Tsv, TableFormat::Jsonl][usize::from(pick % 3)];
    let columns = match pick / 3 % 3 {
        0 => Columns::default(),
        1 => Columns { text: Some("review".into()), text_pair: None, label: Some("stars".into()) },
        _ => Columns { text: Some("premise".into()), text_pair: Some("hypothesis".into()), label: None },
    };
    if let Ok(rows) = parse_table(table, format, &columns) {
        assert!(rows.len() <= table.len(), "{} rows from {} bytes", rows.len(), table.len());
    }
});
