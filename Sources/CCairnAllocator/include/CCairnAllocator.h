#ifndef CCAIRN_ALLOCATOR_H
#define CCAIRN_ALLOCATOR_H

/// Pins glibc's mmap threshold at `bytes`, which also turns off its dynamic adjustment
/// (AllocatorPolicy.swift says why). Returns 1 when set, 0 on a C library without the knob.
int cairn_pin_mmap_threshold(int bytes);

#endif
