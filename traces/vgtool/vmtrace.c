/* vmtrace: a valgrind tool that prints every memory access a program makes, in the text
 * format of lackey's --trace-mem=yes, into a large buffer written out in big pieces.
 *
 * Part of vmsim (traces/vgtool). `vmsim record` builds it against the installed valgrind
 * (its headers and static libraries) and runs it instead of lackey: lackey makes one
 * write(2) a line, which costs more than the rest of the recording once the lines go
 * anywhere but /dev/null. The lines are the same as lackey's, event for event:
 *
 *   I  04001100,3     an instruction fetch of 3 bytes
 *    L 1ffefffd78,8   a load
 *    S 1ffefffd78,8   a store
 *    M 0421d3c0,4     a load and a store of the same bytes by one instruction
 *
 * Events are found in the IR as lackey finds them: an IMark per guest instruction; a load
 * per Iex_Load and guarded load; a store per Ist_Store and guarded store; the memory
 * effects of dirty helpers; a read and a write for a compare-and-swap; a load-linked
 * read and a store-conditional write. A write of the same size to the same address as
 * the event just before it, a read, turns that read into a modify. Events are queued
 * four at a time and the queue is flushed before each side exit and at the end of a
 * superblock, as lackey does, so that the merges, and hence the lines, are the same.
 *
 * Output: --vmtrace-fd=N (required) names the file descriptor to write the lines to; the
 * tool moves it out of the program's reach at start-up. The buffer is written out when
 * full, at the end of every superblock that ends in a system call and again when the
 * tool hears of the call (so that valgrind's --trace-syscalls lines, which the core
 * starts writing to its log before the tool hears of the call, come in their place among
 * the accesses when the log is the same pipe), and at exit, after which the tool prints
 * "Exit code: N" on valgrind's log, as lackey's summary ends.
 */

#include "pub_tool_basics.h"
#include "pub_tool_tooliface.h"
#include "pub_tool_libcassert.h"
#include "pub_tool_libcbase.h"
#include "pub_tool_libcfile.h"
#include "pub_tool_libcprint.h"
#include "pub_tool_libcproc.h"
#include "pub_tool_machine.h"
#include "pub_tool_options.h"

/* ---- output ---- */

static Long out_fd = -1;

#define OUT_SIZE (1 << 20)
static HChar out_buf[OUT_SIZE];
static Int out_used;

static void out_flush(void)
{
   Int done = 0;
   while (done < out_used) {
      Int n = VG_(write)((Int)out_fd, out_buf + done, out_used - done);
      if (n <= 0) {
         /* The reader is gone (vmsim stopped the recording): nothing more to say. */
         VG_(exit)(1);
      }
      done += n;
   }
   out_used = 0;
}

static const HChar hexdigits[16] = "0123456789abcdef";

/* put appends "<prefix><address as at least 8 hex digits>,<size>\n". */
static inline void put(const HChar *prefix, Addr addr, SizeT size)
{
   if (out_used > OUT_SIZE - 64)
      out_flush();
   HChar *p = out_buf + out_used;
   p[0] = prefix[0];
   p[1] = prefix[1];
   p[2] = prefix[2];
   p += 3;
   Int digits = 8;
   while (digits < 16 && (addr >> (4 * digits)) != 0)
      digits++;
   for (Int i = digits - 1; i >= 0; i--)
      *p++ = hexdigits[(addr >> (4 * i)) & 0xf];
   *p++ = ',';
   HChar dec[24];
   Int n = 0;
   do {
      dec[n++] = (HChar)('0' + size % 10);
      size /= 10;
   } while (size != 0);
   while (n > 0)
      *p++ = dec[--n];
   *p++ = '\n';
   out_used = (Int)(p - out_buf);
}

static void flush_before_syscall(void) { out_flush(); }

static VG_REGPARM(2) void trace_instr(Addr addr, SizeT size) { put("I  ", addr, size); }
static VG_REGPARM(2) void trace_load(Addr addr, SizeT size) { put(" L ", addr, size); }
static VG_REGPARM(2) void trace_store(Addr addr, SizeT size) { put(" S ", addr, size); }
static VG_REGPARM(2) void trace_modify(Addr addr, SizeT size) { put(" M ", addr, size); }

/* ---- instrumentation ---- */

typedef enum { Ev_Ir, Ev_Dr, Ev_Dw, Ev_Dm } EventKind;

typedef struct {
   EventKind kind;
   IRExpr *addr;
   Int size;
   IRExpr *guard; /* NULL: always */
} Event;

#define N_EVENTS 4
static Event events[N_EVENTS];
static Int events_used;

static void flush_events(IRSB *sb)
{
   for (Int i = 0; i < events_used; i++) {
      Event *ev = &events[i];
      const HChar *name;
      void *fn;
      switch (ev->kind) {
      case Ev_Ir: name = "trace_instr"; fn = trace_instr; break;
      case Ev_Dr: name = "trace_load"; fn = trace_load; break;
      case Ev_Dw: name = "trace_store"; fn = trace_store; break;
      case Ev_Dm: name = "trace_modify"; fn = trace_modify; break;
      default: tl_assert(0);
      }
      IRExpr **args = mkIRExprVec_2(ev->addr, mkIRExpr_HWord(ev->size));
      IRDirty *di = unsafeIRDirty_0_N(2, name, VG_(fnptr_to_fnentry)(fn), args);
      if (ev->guard)
         di->guard = ev->guard;
      addStmtToIRSB(sb, IRStmt_Dirty(di));
   }
   events_used = 0;
}

static void add_event(IRSB *sb, EventKind kind, IRExpr *addr, Int size, IRExpr *guard)
{
   tl_assert(isIRAtom(addr));
   tl_assert(size >= 1);
   if (events_used == N_EVENTS)
      flush_events(sb);
   Event *ev = &events[events_used++];
   ev->kind = kind;
   ev->addr = addr;
   ev->size = size;
   ev->guard = guard;
}

static void add_write(IRSB *sb, IRExpr *addr, Int size, IRExpr *guard)
{
   if (events_used > 0) {
      Event *last = &events[events_used - 1];
      if (last->kind == Ev_Dr && last->size == size && last->guard == NULL && guard == NULL &&
          eqIRAtom(last->addr, addr)) {
         last->kind = Ev_Dm;
         return;
      }
   }
   add_event(sb, Ev_Dw, addr, size, guard);
}

static Bool is_syscall(IRJumpKind jk)
{
   switch (jk) {
   case Ijk_Sys_syscall: case Ijk_Sys_int32: case Ijk_Sys_int128: case Ijk_Sys_int129:
   case Ijk_Sys_int130: case Ijk_Sys_int145: case Ijk_Sys_int210: case Ijk_Sys_sysenter:
      return True;
   default:
      return False;
   }
}

static IRSB *vt_instrument(VgCallbackClosure *closure, IRSB *in, const VexGuestLayout *layout,
                           const VexGuestExtents *vge, const VexArchInfo *archinfo_host,
                           IRType gWordTy, IRType hWordTy)
{
   if (gWordTy != hWordTy)
      VG_(tool_panic)("host/guest word size mismatch");
   IRSB *out = deepCopyIRSBExceptStmts(in);
   IRTypeEnv *tyenv = in->tyenv;
   Int i = 0;
   /* The preamble before the first IMark is copied as it is. */
   while (i < in->stmts_used && in->stmts[i]->tag != Ist_IMark) {
      addStmtToIRSB(out, in->stmts[i]);
      i++;
   }
   events_used = 0;
   for (; i < in->stmts_used; i++) {
      IRStmt *st = in->stmts[i];
      if (!st || st->tag == Ist_NoOp)
         continue;
      switch (st->tag) {
      case Ist_IMark:
         add_event(out, Ev_Ir, mkIRExpr_HWord((HWord)st->Ist.IMark.addr), st->Ist.IMark.len, NULL);
         break;
      case Ist_WrTmp: {
         IRExpr *data = st->Ist.WrTmp.data;
         if (data->tag == Iex_Load)
            add_event(out, Ev_Dr, data->Iex.Load.addr, sizeofIRType(data->Iex.Load.ty), NULL);
         break;
      }
      case Ist_Store: {
         IRType ty = typeOfIRExpr(tyenv, st->Ist.Store.data);
         add_write(out, st->Ist.Store.addr, sizeofIRType(ty), NULL);
         break;
      }
      case Ist_StoreG: {
         IRStoreG *sg = st->Ist.StoreG.details;
         IRType ty = typeOfIRExpr(tyenv, sg->data);
         add_write(out, sg->addr, sizeofIRType(ty), sg->guard);
         break;
      }
      case Ist_LoadG: {
         IRLoadG *lg = st->Ist.LoadG.details;
         IRType ty = Ity_INVALID, wide = Ity_INVALID;
         typeOfIRLoadGOp(lg->cvt, &wide, &ty);
         add_event(out, Ev_Dr, lg->addr, sizeofIRType(ty), lg->guard);
         break;
      }
      case Ist_Dirty: {
         IRDirty *d = st->Ist.Dirty.details;
         if (d->mFx != Ifx_None) {
            tl_assert(d->mAddr != NULL && d->mSize != 0);
            if (d->mFx == Ifx_Read || d->mFx == Ifx_Modify)
               add_event(out, Ev_Dr, d->mAddr, d->mSize, NULL);
            if (d->mFx == Ifx_Write || d->mFx == Ifx_Modify)
               add_write(out, d->mAddr, d->mSize, NULL);
         }
         break;
      }
      case Ist_CAS: {
         IRCAS *cas = st->Ist.CAS.details;
         Int size = sizeofIRType(typeOfIRExpr(tyenv, cas->dataLo));
         if (cas->dataHi != NULL)
            size *= 2;
         add_event(out, Ev_Dr, cas->addr, size, NULL);
         add_write(out, cas->addr, size, NULL);
         break;
      }
      case Ist_LLSC: {
         if (st->Ist.LLSC.storedata == NULL) {
            IRType ty = typeOfIRTemp(tyenv, st->Ist.LLSC.result);
            add_event(out, Ev_Dr, st->Ist.LLSC.addr, sizeofIRType(ty), NULL);
         } else {
            IRType ty = typeOfIRExpr(tyenv, st->Ist.LLSC.storedata);
            add_write(out, st->Ist.LLSC.addr, sizeofIRType(ty), NULL);
         }
         break;
      }
      case Ist_Exit:
         flush_events(out);
         break;
      default:
         break;
      }
      addStmtToIRSB(out, st);
   }
   flush_events(out);
   if (is_syscall(in->jumpkind)) {
      /* valgrind's --trace-syscalls line starts before the tool hears of the call: the
         lines so far must be out first. */
      IRDirty *di = unsafeIRDirty_0_N(0, "flush_before_syscall", VG_(fnptr_to_fnentry)(flush_before_syscall), mkIRExprVec_0());
      addStmtToIRSB(out, IRStmt_Dirty(di));
   }
   return out;
}

/* ---- start-up, system calls, exit ---- */

static Bool vt_process_cmd_line_option(const HChar *arg)
{
   if VG_INT_CLO(arg, "--vmtrace-fd", out_fd) {}
   else
      return False;
   return True;
}

static void vt_print_usage(void)
{
   VG_(printf)("    --vmtrace-fd=<n>          write the trace to file descriptor n [required]\n");
}

static void vt_print_debug_usage(void) {}

static void vt_post_clo_init(void)
{
   if (out_fd < 0)
      VG_(fmsg_bad_option)("--vmtrace-fd", "vmtrace needs --vmtrace-fd=N, the file descriptor to write to\n");
   /* Move the descriptor to the top of the range valgrind keeps from the program, so
      that the program can neither see it nor close it. */
   struct vki_rlimit rl;
   if (VG_(getrlimit)(VKI_RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > (UWord)out_fd + 1) {
      SysRes r = VG_(dup2)((Int)out_fd, (Int)rl.rlim_cur - 1);
      if (!sr_isError(r)) {
         VG_(close)((Int)out_fd);
         out_fd = (Long)sr_Res(r);
      }
   }
}

static void vt_pre_syscall(ThreadId tid, UInt syscallno, UWord *args, UInt nArgs) { out_flush(); }

static void vt_post_syscall(ThreadId tid, UInt syscallno, UWord *args, UInt nArgs, SysRes res) {}

static void vt_fini(Int exitcode)
{
   out_flush();
   VG_(umsg)("Exit code:       %d\n", exitcode);
}

static void vt_pre_clo_init(void)
{
   VG_(details_name)("vmtrace");
   VG_(details_version)(NULL);
   VG_(details_description)("every memory access, for vmsim");
   VG_(details_copyright_author)("the vmsim authors");
   VG_(details_bug_reports_to)(VG_BUGS_TO);
   VG_(details_avg_translation_sizeB)(200);

   VG_(basic_tool_funcs)(vt_post_clo_init, vt_instrument, vt_fini);
   VG_(needs_command_line_options)(vt_process_cmd_line_option, vt_print_usage, vt_print_debug_usage);
   VG_(needs_syscall_wrapper)(vt_pre_syscall, vt_post_syscall);
}

VG_DETERMINE_INTERFACE_VERSION(vt_pre_clo_init)
