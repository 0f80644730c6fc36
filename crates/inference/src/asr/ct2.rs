//! Reader of CTranslate2 model files (`model.bin`), the format the Whisper packages ship in.
//!
//! No crate reads these files without building CTranslate2 itself (C++), and the format is
//! small, so it is read here: a little-endian `u32` format version (6 is the one read), the
//! spec name (`u16` length + bytes, NUL-terminated), a `u32` spec revision, a `u32` variable
//! count, then per variable its name, a `u8` rank, `rank` × `u32` dimensions, a `u8` dtype
//! (0 f32, 1 i8, 2 i16, 3 i32, 4 f16, 5 bf16), a `u32` byte count and the raw bytes; then a
//! `u32` count of aliases, each a (name, target) pair of strings (`decoder/projection/weight`
//! → `decoder/embeddings/weight` for Whisper's tied output projection).
//!
//! [`read`] turns every floating-point variable into an `f32` candle [`Tensor`] (the weights
//! are converted at load; 75 MB of float16 for tiny.en takes well under a second) and keeps
//! the integer scalars (head counts, flags) as plain numbers.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};

/// A parsed CTranslate2 model.
#[derive(Debug)]
pub struct Ct2Model {
    /// The spec's name, e.g. `WhisperSpec`.
    pub spec: String,
    /// The spec's revision.
    pub revision: u32,
    /// Floating-point variables (weights), as `f32` tensors on the CPU.
    pub tensors: HashMap<String, Tensor>,
    /// Integer and boolean scalars (e.g. `decoder/num_heads`).
    pub scalars: HashMap<String, i64>,
}

impl Ct2Model {
    /// The tensor named `name`, or an error naming it.
    pub fn tensor(&self, name: &str) -> Result<&Tensor, String> {
        self.tensors.get(name).ok_or_else(|| format!("model.bin has no variable {name}"))
    }

    /// The scalar named `name`, or an error naming it.
    pub fn scalar(&self, name: &str) -> Result<i64, String> {
        self.scalars.get(name).copied().ok_or_else(|| format!("model.bin has no scalar {name}"))
    }
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.data.len()).ok_or_else(|| format!("model.bin is truncated at byte {}", self.pos))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Result<String, String> {
        let n = self.u16()? as usize;
        let b = self.take(n)?;
        let b = b.strip_suffix(&[0]).unwrap_or(b);
        String::from_utf8(b.to_vec()).map_err(|_| "model.bin has a name that is not UTF-8".to_string())
    }
}

/// Parse a CTranslate2 `model.bin` held in memory.
pub fn read(data: &[u8]) -> Result<Ct2Model, String> {
    let mut c = Cursor { data, pos: 0 };
    let version = c.u32()?;
    if !(5..=6).contains(&version) {
        return Err(format!("unsupported CTranslate2 model version {version} (5 or 6 are read)"));
    }
    let spec = c.string()?;
    let revision = c.u32()?;
    let count = c.u32()?;
    let mut tensors = HashMap::new();
    let mut scalars = HashMap::new();
    for _ in 0..count {
        let name = c.string()?;
        let rank = c.u8()? as usize;
        let mut dims = Vec::with_capacity(rank);
        for _ in 0..rank {
            dims.push(c.u32()? as usize);
        }
        let dtype = c.u8()?;
        let nbytes = c.u32()? as usize;
        let bytes = c.take(nbytes)?;
        let elems: usize = dims.iter().product();
        let width = match dtype {
            0 | 3 => 4,
            1 => 1,
            2 | 4 | 5 => 2,
            other => return Err(format!("{name}: unknown dtype {other}")),
        };
        if elems * width != nbytes {
            return Err(format!("{name}: {nbytes} bytes for shape {dims:?}"));
        }
        match dtype {
            0 | 4 | 5 => {
                let dt = match dtype {
                    0 => DType::F32,
                    4 => DType::F16,
                    _ => DType::BF16,
                };
                let shape = if dims.is_empty() { vec![1] } else { dims.clone() };
                let t = Tensor::from_raw_buffer(bytes, dt, &shape, &Device::Cpu)
                    .and_then(|t| t.to_dtype(DType::F32))
                    .map_err(|e| format!("{name}: {e}"))?;
                tensors.insert(name, t);
            }
            _ if elems == 1 => {
                let v = match dtype {
                    1 => bytes[0] as i8 as i64,
                    2 => i16::from_le_bytes([bytes[0], bytes[1]]) as i64,
                    _ => i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as i64,
                };
                scalars.insert(name, v);
            }
            // Integer arrays are not used by the Whisper spec; skip them.
            _ => {}
        }
    }
    // Aliases (format version 6): name → target.
    if c.pos < data.len() {
        let n = c.u32()?;
        for _ in 0..n {
            let alias = c.string()?;
            let target = c.string()?;
            if let Some(t) = tensors.get(&target).cloned() {
                tensors.insert(alias, t);
            }
        }
    }
    Ok(Ct2Model { spec, revision, tensors, scalars })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }

    #[test]
    fn reads_variables_scalars_and_aliases() {
        let mut b = Vec::new();
        b.extend_from_slice(&6u32.to_le_bytes());
        string(&mut b, "WhisperSpec");
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&2u32.to_le_bytes());
        string(&mut b, "w");
        b.push(2);
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&2u32.to_le_bytes());
        b.push(4); // f16
        b.extend_from_slice(&4u32.to_le_bytes());
        for v in [1.5f32, -2.0] {
            b.extend_from_slice(&half_bits(v).to_le_bytes());
        }
        string(&mut b, "heads");
        b.push(0);
        b.push(2); // i16
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&6i16.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        string(&mut b, "alias");
        string(&mut b, "w");
        let m = read(&b).unwrap();
        assert_eq!(m.spec, "WhisperSpec");
        assert_eq!(m.scalar("heads").unwrap(), 6);
        let w: Vec<Vec<f32>> = m.tensor("alias").unwrap().to_vec2().unwrap();
        assert_eq!(w, vec![vec![1.5, -2.0]]);
        assert!(read(&b[..b.len() - 5]).is_err());
        assert!(read(b"\x07\x00\x00\x00").is_err());
    }

    fn half_bits(v: f32) -> u16 {
        // Exact for the small values used above.
        let bits = v.to_bits();
        let sign = ((bits >> 16) & 0x8000) as u16;
        let exp = ((bits >> 23) & 0xff) as i32 - 127 + 15;
        let mant = ((bits >> 13) & 0x3ff) as u16;
        sign | ((exp as u16) << 10) | mant
    }
}
