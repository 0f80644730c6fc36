//! Memory of model workers: the memory size a variant gives each worker (serverless
//! `MemorySizeInMB`, or the instance type's memory), and the resident set of a process tree
//! read from `/proc` (Linux; elsewhere nothing is measured).

use crate::domain::fleet::Capacity;
use std::collections::HashMap;

/// Memory of one instance of `instance_type`, in MiB: vCPUs from the size (`large` 2,
/// `xlarge` 4, `Nxlarge` 4·N, `medium` 1) times GiB per vCPU of the family (`c` 2, `r`/`x` 8,
/// others 4). An approximation of the instance tables, good to a factor of the real size.
pub fn instance_memory_mb(instance_type: &str) -> u64 {
    let t = instance_type.strip_prefix("ml.").unwrap_or(instance_type);
    let (family, size) = t.split_once('.').unwrap_or((t, "large"));
    let vcpus: u64 = match size {
        "medium" => 1,
        "large" => 2,
        "xlarge" => 4,
        s => s.strip_suffix("xlarge").and_then(|n| n.parse::<u64>().ok()).map(|n| n * 4).unwrap_or(2),
    };
    let per_vcpu_gib: u64 = match family.chars().next() {
        Some('c') => 2,
        Some('r') | Some('x') => 8,
        _ => 4,
    };
    vcpus * per_vcpu_gib * 1024
}

/// The memory size of one worker of a variant, in bytes.
pub fn limit_bytes(capacity: &Capacity) -> Option<u64> {
    match capacity {
        Capacity::Serverless { memory_mb, .. } if *memory_mb > 0 => Some(u64::from(*memory_mb) * 1024 * 1024),
        Capacity::Serverless { .. } => None,
        Capacity::Instances { instance_type, .. } => Some(instance_memory_mb(instance_type) * 1024 * 1024),
    }
}

/// One process as `/proc` shows it.
#[derive(Debug, Clone, Copy)]
pub struct Proc {
    pub ppid: u32,
    pub rss_bytes: u64,
}

/// Every process of the machine: pid → parent and resident set.
pub fn process_table() -> HashMap<u32, Proc> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else { return out };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { continue };
        let mut ppid = 0;
        let mut rss_kb = 0;
        for line in status.lines() {
            if let Some(v) = line.strip_prefix("PPid:") {
                ppid = v.trim().parse().unwrap_or(0);
            } else if let Some(v) = line.strip_prefix("VmRSS:") {
                rss_kb = v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
            }
        }
        out.insert(pid, Proc { ppid, rss_bytes: rss_kb * 1024 });
    }
    out
}

/// Resident bytes of `root` and all its descendants.
pub fn tree_rss(table: &HashMap<u32, Proc>, root: u32) -> u64 {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for (pid, p) in table {
        children.entry(p.ppid).or_default().push(*pid);
    }
    let mut total = 0;
    let mut stack = vec![root];
    let mut seen = std::collections::HashSet::new();
    while let Some(pid) = stack.pop() {
        if !seen.insert(pid) {
            continue;
        }
        if let Some(p) = table.get(&pid) {
            total += p.rss_bytes;
        }
        if let Some(c) = children.get(&pid) {
            stack.extend(c.iter().copied());
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_trees() {
        assert_eq!(instance_memory_mb("ml.m5.xlarge"), 16 * 1024);
        assert_eq!(instance_memory_mb("ml.c5.2xlarge"), 16 * 1024);
        assert_eq!(instance_memory_mb("ml.r5.large"), 16 * 1024);
        assert_eq!(instance_memory_mb("ml.t2.medium"), 4 * 1024);
        assert_eq!(limit_bytes(&Capacity::Serverless { memory_mb: 1024, max_concurrency: 1, provisioned: 0 }), Some(1 << 30));
        let mut t = HashMap::new();
        t.insert(10, Proc { ppid: 1, rss_bytes: 100 });
        t.insert(11, Proc { ppid: 10, rss_bytes: 20 });
        t.insert(12, Proc { ppid: 11, rss_bytes: 3 });
        t.insert(13, Proc { ppid: 1, rss_bytes: 1000 });
        assert_eq!(tree_rss(&t, 10), 123);
        let me = std::process::id();
        assert!(tree_rss(&process_table(), me) > 0, "this test process has a resident set");
    }
}
