package reproduce

import (
	"fmt"

	"github.com/vmsim/vmsim/cost"
)

// CostSet is a named cost model whose every value has a source.
type CostSet struct {
	Name  string // short, for file names and tables: "measured", "hw-assisted", "1992"
	Label string // for legends and the README
	// Model is the cost model. Invariant: Model.Validate() == nil.
	Model cost.Model
	// Sources says, for every JSON key of cost.Model, where its value comes from.
	// Invariant: one entry per key.
	Sources map[string]string
}

// Validate checks the model and that every field has a source.
func (c CostSet) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return fmt.Errorf("cost set %s: %w", c.Name, err)
	}
	for _, k := range costKeys() {
		if c.Sources[k] == "" {
			return fmt.Errorf("cost set %s: no source for %s", c.Name, k)
		}
	}
	for k := range c.Sources {
		if _, ok := costsMap(c.Model)[k]; !ok {
			return fmt.Errorf("cost set %s: a source for %s, which is not a cost", c.Name, k)
		}
	}
	return nil
}

// costKeys are the JSON keys of cost.Model, in its order.
func costKeys() []string { return cost.Keys() }

// The three cost sets of the comparative study.
//
// measured: this machine, the defaults of cost.Default, each measured and sourced
// on cost.Model's fields (cost/cost.go).
//
// hw-assisted: the same processor (same access time and page walk), but a memory system
// that takes the protection events and copies itself: a trap is one DRAM access at the
// memory controller instead of a kernel entry, copies run at the bandwidth of a DDR4-3200
// channel, and checkpoint storage is byte-addressable non-volatile memory on the memory bus
// (Intel Optane DC persistent memory, as measured by Izraelevitz et al. 2019).
//
// 1992: a workstation of the original paper's time, a DECstation 5000/200 class machine
// (25 MHz MIPS R3000), with a SCSI disk of the period and 10 Mb/s Ethernet.
func CostSets() []CostSet {
	m := cost.Default()
	measured := CostSet{Name: "measured", Label: "measured (this machine)", Model: m, Sources: map[string]string{
		"access_ns":              "native run time / traced accesses of corpus programs (cost/cost.go)",
		"cache_miss_ns":          "a DRAM access, < 100 ns (Intel, Architecture Day press release, Dec. 2018)",
		"fault_ns":               "BenchmarkMachinePageFault: a minor fault on fresh anonymous memory",
		"mprotect_ns":            "trap_ns: vmsim calibrate measured one page's mprotect within 5% of a write-protection trap",
		"restart_ns":             "one trap, the failure handler's entry (a lower bound)",
		"copy_bytes_per_sec":     "BenchmarkMachinePageCopy (sim/machine_bench_test.go)",
		"trap_ns":                "BenchmarkMachinePageFault: a minor fault on fresh anonymous memory, as a trap with a short handler",
		"disk_read_ns":           "BenchmarkMachineDiskRead: 4 KiB O_DIRECT random reads",
		"disk_write_ns":          "BenchmarkMachineDiskWriteSync: 4 KiB write + fdatasync",
		"pt_page_write_ns":       "a durable page write (disk_write_ns)",
		"commit_ns":              "a durable page write (disk_write_ns)",
		"sweep_page_ns":          "two accesses (a PTE read and rewritten)",
		"log_bytes_per_sec":      "a log append is a memory copy: copy_bytes_per_sec",
		"storage_bytes_per_sec":  "dd of 256 MiB with O_DIRECT in 1 MiB requests + fdatasync",
		"backup_bytes_per_sec":   "10 Gb/s Ethernet (IEEE 802.3ae)",
		"recovery_bytes_per_sec": "memory to memory: copy_bytes_per_sec",
		"cache_flush_line_ns":    "one 64-byte line at copy_bytes_per_sec",
		"page_walk_ns":           "BenchmarkMachinePageWalk",
	}}

	// Hardware-assisted.
	const ddr4 = 25.6e9       // DDR4-3200: 3200 MT/s × 8 bytes a transfer, one channel (JEDEC JESD79-4)
	const dramNs = 100.0      // a DRAM access, "<100 ns" (Intel, Architecture Day press release, Dec. 2018)
	const pmWrite = 2.3e9     // Optane DC PMM write bandwidth (Izraelevitz et al., arXiv:1903.05714, 2019)
	const pmRead = 6.6e9      // Optane DC PMM read bandwidth (same)
	const pmLatencyNs = 305.0 // Optane DC PMM random load latency (same)
	pmPageWrite := dramNs + 4096/pmWrite*1e9
	hw := m
	hw.CopyBytesPerSec = ddr4
	hw.TrapNs = dramNs
	hw.MprotectNs = 0
	hw.DiskReadNs = pmLatencyNs + 4096/pmRead*1e9
	hw.DiskWriteNs = pmPageWrite
	hw.PTPageWriteNs = pmPageWrite
	hw.CommitNs = pmPageWrite
	hw.LogBytesPerSec = ddr4
	hw.StorageBytesPerSec = pmWrite
	hw.RecoveryBytesPerSec = ddr4
	hw.CacheFlushLineNs = 64 / ddr4 * 1e9
	hwSet := CostSet{Name: "hw-assisted", Label: "hardware-assisted", Model: hw, Sources: map[string]string{
		"access_ns":              "same processor as measured",
		"cache_miss_ns":          "same processor as measured",
		"fault_ns":               "same operating system as measured: first touches still fault",
		"mprotect_ns":            "0: the memory system tracks writes itself, and nothing is write-protected again",
		"restart_ns":             "same operating system as measured",
		"copy_bytes_per_sec":     "DDR4-3200 channel peak, 25.6 GB/s (JEDEC JESD79-4): copies done by the memory controller",
		"trap_ns":                "one DRAM access at the memory controller, 100 ns (Intel: DRAM < 100 ns, 2018), instead of a kernel trap",
		"disk_read_ns":           "Optane DC PMM: 305 ns load latency + 4 KiB at 6.6 GB/s (Izraelevitz et al. 2019)",
		"disk_write_ns":          "Optane DC PMM: 100 ns + 4 KiB at 2.3 GB/s write bandwidth (Izraelevitz et al. 2019)",
		"pt_page_write_ns":       "a page write to persistent memory (disk_write_ns)",
		"commit_ns":              "a page write to persistent memory (disk_write_ns)",
		"sweep_page_ns":          "same processor as measured",
		"log_bytes_per_sec":      "DDR4-3200 channel, 25.6 GB/s",
		"storage_bytes_per_sec":  "Optane DC PMM write bandwidth, 2.3 GB/s (Izraelevitz et al. 2019)",
		"backup_bytes_per_sec":   "10 Gb/s Ethernet, as measured",
		"recovery_bytes_per_sec": "DDR4-3200 channel, 25.6 GB/s",
		"cache_flush_line_ns":    "one 64-byte line at 25.6 GB/s",
		"page_walk_ns":           "same processor as measured",
	}}

	// 1992: DECstation 5000/200 class.
	const copy92 = 10e6    // bcopy of large blocks, about 10 MB/s on DECstation/SPARCstation-class machines (Ousterhout, USENIX Summer 1990)
	const disk92 = 25e6    // ns: 16 ms average seek + 8.3 ms half a rotation at 3600 rpm + 4 KiB at ~1.5 MB/s ≈ 25 ms (Hennessy & Patterson 1990, ch. 9 disks)
	const diskBW92 = 1.5e6 // bytes/s, sustained transfer of a SCSI disk of the period (same)
	const access92 = 40.0  // ns: ~18.5 MIPS (DEC's rating of the 5000/200) → 54 ns an instruction / 1.4 accesses an instruction
	old := cost.Model{
		AccessNs:            access92,
		CacheMissNs:         600,    // ~15 cycles at 25 MHz to main memory on R3000 workstations (Hennessy & Patterson 1990, ch. 8)
		FaultNs:             20_000, // a kernel trap, as trap_ns
		MprotectNs:          20_000, // a system call changing a PTE: a kernel entry, as trap_ns
		RestartNs:           20_000, // one trap
		CopyBytesPerSec:     copy92,
		TrapNs:              20_000, // a kernel protection-fault trap and return, tens of µs on R2000/R3000 (Anderson et al., ASPLOS 1991; Ousterhout 1990)
		DiskReadNs:          disk92,
		DiskWriteNs:         disk92,
		PTPageWriteNs:       disk92,
		CommitNs:            disk92,
		SweepPageNs:         2 * access92,
		LogBytesPerSec:      copy92,
		StorageBytesPerSec:  diskBW92,
		BackupBytesPerSec:   1.25e6, // 10 Mb/s Ethernet (IEEE 802.3)
		RecoveryBytesPerSec: copy92,
		CacheFlushLineNs:    64 / copy92 * 1e9,
		PageWalkNs:          480, // R3000 software TLB refill, ~12 cycles at 25 MHz (Nagle et al., ISCA 1993)
	}
	oldSet := CostSet{Name: "1992", Label: "1992 workstation", Model: old, Sources: map[string]string{
		"access_ns":              "DECstation 5000/200 (25 MHz R3000), ~18.5 MIPS: 54 ns an instruction, 1.4 accesses an instruction",
		"cache_miss_ns":          "about 15 cycles at 25 MHz to main memory, 600 ns (Hennessy & Patterson 1990, ch. 8)",
		"fault_ns":               "a kernel trap, as trap_ns",
		"mprotect_ns":            "a system call changing one PTE: a kernel entry, as trap_ns",
		"restart_ns":             "one trap, as trap_ns",
		"copy_bytes_per_sec":     "about 10 MB/s block copy on machines of the class (Ousterhout, \"Why Aren't Operating Systems Getting Faster As Fast as Hardware?\", USENIX Summer 1990)",
		"trap_ns":                "20 µs, a kernel trap and return with a short handler on R2000/R3000 machines, tens of µs (Anderson, Levy, Bershad, Lazowska, ASPLOS 1991; Ousterhout 1990)",
		"disk_read_ns":           "25 ms: average seek 16 ms + half a rotation at 3600 rpm 8.3 ms + transfer (Hennessy & Patterson, 1990, ch. 9)",
		"disk_write_ns":          "25 ms, as a read",
		"pt_page_write_ns":       "a disk page write",
		"commit_ns":              "a disk page write",
		"sweep_page_ns":          "two accesses",
		"log_bytes_per_sec":      "memory copy bandwidth",
		"storage_bytes_per_sec":  "1.5 MB/s sustained SCSI transfer of the period",
		"backup_bytes_per_sec":   "10 Mb/s Ethernet (IEEE 802.3), 1.25 MB/s",
		"recovery_bytes_per_sec": "memory copy bandwidth",
		"cache_flush_line_ns":    "64 bytes at the copy bandwidth",
		"page_walk_ns":           "software TLB refill, ~12 cycles at 25 MHz (Nagle et al., \"Design Tradeoffs for Software-Managed TLBs\", ISCA 1993)",
	}}
	return []CostSet{measured, hwSet, oldSet}
}
