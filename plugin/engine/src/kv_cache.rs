//! The transformer's key/value cache between ONNX Runtime calls (worker thread only).
//!
//! Two kinds, after the two graphs `models/export.py` writes; which one a model takes is read from
//! its inputs when it loads:
//!
//! - **Growing** (model v1): the graph concatenates the past with the new positions and returns
//!   the whole cache (`present_key` / `present_value`), which is fed back as the next past. Every
//!   step copies the whole past inside ONNX Runtime (≈ 1.4 µs per past position on one core).
//! - **In place**: the cache is a buffer kept here, `[layers, batch, heads, capacity, head_dim]`,
//!   of which the first `length` positions are valid. The graph reads it without copying (each
//!   layer's part is lent to ONNX Runtime as an input of its own, not copied into it) and returns
//!   only the new positions' keys and values, which are written after the valid ones. The capacity grows by doubling, so
//!   a step reads at most twice the valid past and the cache is moved a handful of times per
//!   phrase, not once per token.

use ort::value::DynValue;

/// How a loaded graph takes its cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheKind {
    /// `past_key` / `past_value` in, `present_key` / `present_value` (past + new) out.
    Growing,
    /// `past_key_<l>` / `past_value_<l>` (buffers) and `past_length` in, `new_key` / `new_value`
    /// out.
    InPlace,
}

/// The smallest capacity an in-place buffer is given (positions): a prompt is longer than this.
const MIN_CAPACITY: usize = 64;

/// The cache of `batch` sequences of `length` positions.
pub(crate) struct Cache {
    /// Where the keys and values are.
    pub(crate) store: Store,
    /// Positions cached (the same for every row): the next token's position.
    pub(crate) length: usize,
}

/// The cache's storage, by [`CacheKind`].
pub(crate) enum Store {
    /// The graph's own outputs, `[layers, batch, heads, length, head_dim]` each.
    Growing { key: DynValue, value: DynValue },
    /// Buffers kept here.
    InPlace(Buffer),
}

/// An in-place cache buffer pair.
pub(crate) struct Buffer {
    /// Keys, `[layers, batch, heads, capacity, head_dim]`, row-major; positions at or after the
    /// cache's length hold stale values the graph masks out.
    pub(crate) key: Vec<f32>,
    /// Values, laid out as `key`.
    pub(crate) value: Vec<f32>,
    /// The shape's fixed parts: layers, batch rows, heads and head width.
    pub(crate) layers: usize,
    pub(crate) batch: usize,
    pub(crate) heads: usize,
    pub(crate) head_dim: usize,
    /// Positions each (layer, row, head) holds room for.
    pub(crate) capacity: usize,
}

/// The storage of in-place buffers no longer in use, for the next ones. A fresh buffer of a few
/// megabytes costs a page fault per 4 KiB page on first touch (a fifth of the time of 8
/// variations, measured); a reused one costs nothing. Reused storage keeps its stale values,
/// which are finite (zeros or keys and values the model wrote) and masked out by the graph.
#[derive(Default)]
pub(crate) struct Pool {
    /// Spare vectors, at most [`Pool::KEEP`].
    spare: Vec<Vec<f32>>,
}

impl Pool {
    /// Vectors kept: one buffer's keys and values, and another's while it is tiled or grown.
    const KEEP: usize = 4;

    /// A vector of `size` floats, from the largest spare one if there is one.
    fn take(&mut self, size: usize) -> Vec<f32> {
        let largest = (0..self.spare.len()).max_by_key(|&i| self.spare[i].capacity());
        let mut vector = largest.map_or_else(Vec::new, |i| self.spare.swap_remove(i));
        if vector.len() >= size {
            vector.truncate(size);
        } else {
            vector.resize(size, 0.0);
        }
        vector
    }

    /// Keeps `vector` for a later buffer.
    fn give(&mut self, vector: Vec<f32>) {
        if self.spare.len() < Self::KEEP {
            self.spare.push(vector);
        }
    }

    /// Keeps the storage of a cache that is done with.
    pub(crate) fn recycle(&mut self, cache: Cache) {
        if let Store::InPlace(buffer) = cache.store {
            self.give(buffer.key);
            self.give(buffer.value);
        }
    }
}

impl Buffer {
    /// A buffer with room for `capacity` positions (at least [`MIN_CAPACITY`]), none valid.
    pub(crate) fn new(
        pool: &mut Pool,
        layers: usize,
        batch: usize,
        heads: usize,
        head_dim: usize,
        capacity: usize,
    ) -> Buffer {
        let capacity = capacity.max(MIN_CAPACITY);
        let size = layers * batch * heads * capacity * head_dim;
        Buffer {
            key: pool.take(size),
            value: pool.take(size),
            layers,
            batch,
            heads,
            head_dim,
            capacity,
        }
    }

    /// The shape of one layer's keys (or values), lent to the graph as `past_key_<l>`
    /// (`past_value_<l>`).
    pub(crate) fn layer_shape(&self) -> [usize; 4] {
        [self.batch, self.heads, self.capacity, self.head_dim]
    }

    /// The length of one layer's keys (or values) in the buffer: layer `l` is the `l`-th chunk.
    pub(crate) fn layer_len(&self) -> usize {
        self.batch * self.heads * self.capacity * self.head_dim
    }

    /// Makes room for `needed` positions, keeping the first `length`: the capacity doubles
    /// (from the next power of two) so that growing costs O(log n) moves per phrase.
    pub(crate) fn reserve(&mut self, pool: &mut Pool, length: usize, needed: usize) {
        if needed <= self.capacity {
            return;
        }
        let capacity = needed.next_power_of_two().max(MIN_CAPACITY);
        let mut grown = Buffer::new(
            pool,
            self.layers,
            self.batch,
            self.heads,
            self.head_dim,
            capacity,
        );
        let keep = length * self.head_dim;
        let (old, new) = (self.capacity * self.head_dim, capacity * self.head_dim);
        for (from, to) in [(&self.key, &mut grown.key), (&self.value, &mut grown.value)] {
            for (old_row, new_row) in from.chunks_exact(old).zip(to.chunks_exact_mut(new)) {
                new_row[..keep].copy_from_slice(&old_row[..keep]);
            }
        }
        let old = std::mem::replace(self, grown);
        pool.give(old.key);
        pool.give(old.value);
    }

    /// Writes the keys and values of `new` positions (`[layers, batch, heads, new, head_dim]`
    /// each, as the graph returns them) at positions `length..length + new`, which
    /// [`Buffer::reserve`] made room for.
    pub(crate) fn write(&mut self, length: usize, new: usize, key: &[f32], value: &[f32]) {
        let (row, width) = (self.capacity * self.head_dim, new * self.head_dim);
        let at = length * self.head_dim;
        for (to, from) in [(&mut self.key, key), (&mut self.value, value)] {
            for (to_row, from_row) in to.chunks_exact_mut(row).zip(from.chunks_exact(width)) {
                to_row[at..at + width].copy_from_slice(from_row);
            }
        }
    }

    /// The buffer with each batch row repeated `repeat` times (row 0 `repeat` times, then row
    /// 1 …), its first `length` positions copied.
    pub(crate) fn tiled(&self, pool: &mut Pool, length: usize, repeat: usize) -> Buffer {
        let mut tiled = Buffer::new(
            pool,
            self.layers,
            self.batch * repeat,
            self.heads,
            self.head_dim,
            self.capacity,
        );
        let per_row = self.heads * self.capacity * self.head_dim;
        let keep = length * self.head_dim;
        let head = self.capacity * self.head_dim;
        for (from, to) in [(&self.key, &mut tiled.key), (&self.value, &mut tiled.value)] {
            let targets = to.chunks_exact_mut(per_row);
            let sources = from
                .chunks_exact(per_row)
                .flat_map(|r| std::iter::repeat_n(r, repeat));
            for (target, source) in targets.zip(sources) {
                for (t, s) in target.chunks_exact_mut(head).zip(source.chunks_exact(head)) {
                    t[..keep].copy_from_slice(&s[..keep]);
                }
            }
        }
        tiled
    }

    /// Keys of (layer, row, head), the first `length` positions (tests).
    #[cfg(test)]
    fn keys(&self, layer: usize, row: usize, head: usize, length: usize) -> &[f32] {
        let start =
            ((layer * self.batch + row) * self.heads + head) * self.capacity * self.head_dim;
        &self.key[start..start + length * self.head_dim]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the graph would return for `new` positions from `first` on: every value names its
    /// layer, row, head, position and component.
    fn block(b: &Buffer, first: usize, new: usize) -> Vec<f32> {
        let mut out = Vec::new();
        for l in 0..b.layers {
            for r in 0..b.batch {
                for h in 0..b.heads {
                    for p in first..first + new {
                        for d in 0..b.head_dim {
                            out.push(
                                (l * 10_000 + r * 1_000 + h * 100 + p) as f32 + d as f32 / 10.0,
                            );
                        }
                    }
                }
            }
        }
        out
    }

    fn expected(l: usize, r: usize, h: usize, length: usize, head_dim: usize) -> Vec<f32> {
        (0..length)
            .flat_map(|p| {
                (0..head_dim)
                    .map(move |d| (l * 10_000 + r * 1_000 + h * 100 + p) as f32 + d as f32 / 10.0)
            })
            .collect()
    }

    #[test]
    fn writes_grow_and_keep_every_position_in_place() {
        // Storage a previous phrase left behind, full of stale values.
        let mut pool = Pool::default();
        pool.give(vec![f32::MAX; 10_000]);
        pool.give(vec![-1.0; 100_000]);
        let mut b = Buffer::new(&mut pool, 2, 2, 3, 4, 0);
        assert_eq!(b.capacity, MIN_CAPACITY);
        // A 50-position prompt, then single steps well past two doublings.
        let mut length = 0;
        for new in std::iter::once(50).chain(std::iter::repeat_n(1, 100)) {
            b.reserve(&mut pool, length, length + new);
            let block = block(&b, length, new);
            b.write(length, new, &block, &block);
            length += new;
        }
        assert_eq!(length, 150);
        assert_eq!(b.capacity, 256);
        for l in 0..2 {
            for r in 0..2 {
                for h in 0..3 {
                    assert_eq!(b.keys(l, r, h, length), expected(l, r, h, length, 4));
                }
            }
        }
        assert_eq!(b.key, b.value);
        // The grown-out storage went back to the pool, and comes back for the next buffer.
        pool.recycle(Cache {
            store: Store::InPlace(b),
            length,
        });
        assert!(pool.spare.len() <= Pool::KEEP);
        let again = Buffer::new(&mut pool, 2, 2, 3, 4, 256);
        assert!(again.key.capacity() >= 2 * 2 * 3 * 256 * 4);
    }

    #[test]
    fn tiling_repeats_each_row_in_order() {
        let mut pool = Pool::default();
        let mut b = Buffer::new(&mut pool, 2, 2, 2, 3, 0);
        let block = block(&b, 0, 10);
        b.write(0, 10, &block, &block);
        let t = b.tiled(&mut pool, 10, 3);
        assert_eq!(t.batch, 6);
        for l in 0..2 {
            for row in 0..6 {
                for h in 0..2 {
                    assert_eq!(t.keys(l, row, h, 10), expected(l, row / 3, h, 10, 3));
                }
            }
        }
    }
}
