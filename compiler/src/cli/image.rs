//! Packing a host folder into the read-only file-system image that
//! bare-metal boards mount for `--dir`.

use std::path::Path;

use anyhow::{Result, bail};

pub fn pack_folder(path: &Path) -> Result<Vec<u8>> {
    bail!(
        "--dir on bare-metal boards needs the file-system image packer, which is not in this build yet ({})",
        path.display()
    )
}
