# A multiboot guest that dirties memory at a steady rate, for the real-QEMU
# test of `migration-sim fit` (tests/fit_real.rs).
#
# QEMU's multiboot loader enters here in 32-bit flat protected mode with
# interrupts off. The guest:
#   1. loads its own GDT and IDT and remaps the PIC (IRQ0 -> vector 0x20,
#      every other IRQ masked),
#   2. programs PIT channel 0 to tick at about 1 kHz (only to wake it up),
#   3. starts the HPET main counter, its clock,
#   4. writes every page of the working set once (so it holds data, not
#      zeros), then "REDY" at physical address 0x9000 for the test to see,
#   5. then forever: sleeps until the next tick (hlt, so the vCPU thread
#      leaves the host CPU to the migration) and writes as many pages as the
#      HPET time elapsed allows at WRITE_RATE page writes per second, each
#      to a page drawn uniformly from the working set (xorshift32). Pacing
#      by elapsed time rather than by tick count keeps the average rate
#      exact when ticks are late or lost; the HPET follows QEMU's virtual
#      clock, which stops while the VM is stopped, so nothing is owed after
#      a pause.
# The rest of RAM is never written: zero pages.
#
# Parameters (assembler symbols, set with --defsym):
#   WS_PAGES    working-set size in 4 KiB pages, a power of two
#   WRITE_RATE  page writes per second
# The working set starts at 16 MiB, above the image (loaded at 1 MiB).

        .set WS_BASE, 0x1000000
        .set PIT_HZ_DIV, 1193          # 1193182 Hz / 1193 = 1000.15 Hz
        .set HPET_BASE, 0xFED00000
        .set READY_ADDR, 0x9000
        .set READY_MAGIC, 0x59444552   # "REDY"

        .section .multiboot, "a"
        .align 4
        .long 0x1BADB002               # magic
        .long 0                        # flags: an ELF image, nothing asked
        .long -0x1BADB002              # checksum: magic + flags + this = 0

        .text
        .code32
        .globl _start
_start:
        cli
        lgdt gdt_desc
        ljmp $0x08, $flat
flat:
        mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %fs
        mov %ax, %gs
        mov %ax, %ss
        mov $stack_top, %esp

        # IDT: exceptions (vectors 0-31) stop the guest; everything from
        # 0x20 up is the tick handler (only IRQ0 is unmasked).
        mov $idt, %edi
        xor %ecx, %ecx
1:      mov $hang, %eax
        cmp $32, %ecx
        jb 2f
        mov $tick, %eax
2:      mov %ax, (%edi)                # offset 15:0
        movw $0x08, 2(%edi)            # code selector
        movw $0x8E00, 4(%edi)          # present, ring 0, 32-bit interrupt gate
        shr $16, %eax
        mov %ax, 6(%edi)               # offset 31:16
        add $8, %edi
        inc %ecx
        cmp $256, %ecx
        jb 1b
        lidt idt_desc

        # PIC: ICW1-4, master at 0x20, slave at 0x28; mask all but IRQ0.
        mov $0x11, %al
        out %al, $0x20
        out %al, $0xA0
        mov $0x20, %al
        out %al, $0x21
        mov $0x28, %al
        out %al, $0xA1
        mov $0x04, %al
        out %al, $0x21
        mov $0x02, %al
        out %al, $0xA1
        mov $0x01, %al
        out %al, $0x21
        out %al, $0xA1
        mov $0xFE, %al
        out %al, $0x21
        mov $0xFF, %al
        out %al, $0xA1

        # PIT channel 0, lobyte/hibyte, mode 2 (rate generator): the
        # wake-up tick.
        mov $0x34, %al
        out %al, $0x43
        mov $(PIT_HZ_DIV & 0xFF), %al
        out %al, $0x40
        mov $(PIT_HZ_DIV >> 8), %al
        out %al, $0x40

        # The HPET main counter is the clock: it follows QEMU's virtual
        # clock (host time while the VM runs, stopped while it is stopped),
        # whenever the vCPU gets to read it. Ticks per ms = 10^12 fs / the
        # counter period in fs (capabilities register, high half).
        movl $1, HPET_BASE + 0x10      # general configuration: ENABLE_CNF
        mov $0xE8, %edx                # edx:eax = 10^12
        mov $0xD4A51000, %eax
        divl HPET_BASE + 0x04
        mov %eax, hpet_per_ms
        sti

        # Give every working-set page data.
        xor %ecx, %ecx
4:      mov %ecx, %eax
        shl $12, %eax
        lea 1(%ecx), %edx
        mov %edx, WS_BASE(%eax)
        inc %ecx
        cmp $WS_PAGES, %ecx
        jb 4b

        movl $READY_MAGIC, READY_ADDR  # tells the test the loop starts

        mov HPET_BASE + 0xF0, %eax
        mov %eax, hpet_prev
        xor %ebp, %ebp                 # page writes done
        mov $0x9E3779B9, %esi          # xorshift32 state
main:
        hlt
        mov HPET_BASE + 0xF0, %eax     # elapsed += now - prev (32-bit
        mov %eax, %ecx                 # counter, read every ~1 ms: no wrap
        sub hpet_prev, %eax            # is missed)
        mov %ecx, hpet_prev
        add %eax, elapsed_lo
        adcl $0, elapsed_hi
        mov elapsed_lo, %eax           # target = elapsed ms * WRITE_RATE / 1000
        mov elapsed_hi, %edx
        divl hpet_per_ms
        mov $WRITE_RATE, %ecx
        mul %ecx
        mov $1000, %ecx
        div %ecx
        mov %eax, %edi
5:      cmp %edi, %ebp
        jae main
        mov %esi, %eax                 # xorshift32 (13, 17, 5)
        shl $13, %eax
        xor %eax, %esi
        mov %esi, %eax
        shr $17, %eax
        xor %eax, %esi
        mov %esi, %eax
        shl $5, %eax
        xor %eax, %esi
        mov %esi, %eax
        and $(WS_PAGES - 1), %eax
        shl $12, %eax
        incl WS_BASE(%eax)
        inc %ebp
        jmp 5b

tick:
        push %eax
        mov $0x20, %al
        out %al, $0x20                 # end of interrupt
        pop %eax
        iret

hang:
        cli
1:      hlt
        jmp 1b

        .data
        .align 8
gdt:
        .quad 0
        .quad 0x00CF9A000000FFFF       # 0x08: code, flat 4 GiB, 32-bit
        .quad 0x00CF92000000FFFF       # 0x10: data, flat 4 GiB
gdt_desc:
        .word gdt_desc - gdt - 1
        .long gdt
idt_desc:
        .word 256 * 8 - 1
        .long idt

        .bss
        .align 8
idt:    .skip 256 * 8
hpet_per_ms: .long 0
hpet_prev: .long 0
elapsed_lo: .long 0
elapsed_hi: .long 0
        .skip 4096
stack_top:
