//! The transformer's key/value cache between ONNX Runtime calls (worker thread only).
//!
//! Two kinds, after the two graphs `models/export.py` writes; which one a model takes is read from
//! its inputs when it loads:
//!
//! - **Growing** (the first exports, v1 until it was re-exported): the graph concatenates the past with the new positions and returns
//!   the whole cache (`present_key` / `present_value`), which is fed back as the next past. Every
//!   step copies the whole past inside ONNX Runtime (≈ 1.4 µs per past position on one core), and
//!   variations carry a copy of the prompt's cache each.
//! - **In place**: the cache is kept here, in buffers of which the first positions are valid.
//!   The graph reads them without copying (each layer's part is lent to ONNX Runtime as an input
//!   of its own) and returns only the new positions' keys and values, which are written after the
//!   valid ones. The prompt's cache is kept once per distinct prompt (one, or two with style
//!   guidance) and every variation of it reads it in the same matrix product; each variation's
//!   own positions after the prompt are its own rows. Reading the cache is most of a step of
//!   many variations, so buffers grow in steps of [`GROWTH`] positions (a buffer is never more
//!   than one step longer than its valid part) and their storage is pooled (`Pool`).

use ort::value::DynValue;

/// How a loaded graph takes its cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheKind {
    /// `past_key` / `past_value` in, `present_key` / `present_value` (past + new) out.
    Growing,
    /// Per layer `prompt_key_<l>` / `prompt_value_<l>` and `past_key_<l>` / `past_value_<l>`
    /// (buffers), `prompt_length` and `past_length` in; `new_key` / `new_value` out.
    InPlace,
}

/// Positions an in-place buffer grows by (and rounds its capacity up to). Growing by doubling
/// instead read about a third more of the buffer per step than was valid.
pub const GROWTH: usize = 64;

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
    InPlace(Shared),
}

/// The fixed parts of a buffer's shape `[layers, rows, heads, capacity, head_dim]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dims {
    pub(crate) layers: usize,
    pub(crate) heads: usize,
    pub(crate) head_dim: usize,
}

/// An in-place cache: the prompt's positions, shared by the rows that continue it, and each
/// row's own positions after it.
pub(crate) struct Shared {
    /// The prompt's keys and values, one row per distinct prompt.
    prompt: Buffer,
    /// Valid positions in `prompt`.
    pub(crate) prompt_length: usize,
    /// Each row's own positions after its prompt: `prompt.batch × repeat` rows, the rows of one
    /// prompt next to each other. Until [`Shared::split`], every row has its own prompt
    /// (repeat 1), new positions are written to `prompt` and this holds one masked position.
    own: Buffer,
    /// Valid positions in `own`.
    pub(crate) own_length: usize,
    /// Whether the rows have been split from their prompts (new positions go to `own`).
    split: bool,
}

impl Shared {
    /// An empty cache for `rows` rows, with room for a prompt of `first` positions.
    pub(crate) fn new(pool: &mut Pool, dims: Dims, rows: usize, first: usize) -> Shared {
        Shared {
            prompt: Buffer::new(pool, dims, rows, first.max(1)),
            prompt_length: 0,
            own: Buffer::new(pool, dims, rows, 1),
            own_length: 0,
            split: false,
        }
    }

    /// From now on each prompt row is continued by `repeat` rows with positions of their own
    /// (the prompt's cache is not copied).
    pub(crate) fn split(&mut self, pool: &mut Pool, repeat: usize) {
        let rows = self.prompt.batch * repeat;
        let own = Buffer::new(pool, self.own.dims, rows, GROWTH);
        let old = std::mem::replace(&mut self.own, own);
        pool.recycle_buffer(old);
        self.own_length = 0;
        self.split = true;
    }

    /// A cache of only `rows` of this unsplit one (in that order; one may repeat), with their
    /// prompt positions copied: Auto scores the prompt under every style at once and goes on
    /// with the rows of the style it chose.
    pub(crate) fn select(&self, pool: &mut Pool, rows: &[usize]) -> Shared {
        debug_assert!(!self.split, "rows are selected before they are split");
        let dims = self.prompt.dims;
        let mut prompt = Buffer::new(pool, dims, rows.len(), self.prompt.capacity);
        let block = dims.heads * self.prompt.capacity * dims.head_dim;
        let valid = self.prompt_length * dims.head_dim;
        let (from_batch, to_batch) = (self.prompt.batch, rows.len());
        for (from, to) in [
            (&self.prompt.key, &mut prompt.key),
            (&self.prompt.value, &mut prompt.value),
        ] {
            for layer in 0..dims.layers {
                for (i, &row) in rows.iter().enumerate() {
                    let source = (layer * from_batch + row) * block;
                    let target = (layer * to_batch + i) * block;
                    // Each head's valid positions (the rest is masked out).
                    for head in 0..dims.heads {
                        let offset = head * prompt.capacity * dims.head_dim;
                        to[target + offset..target + offset + valid]
                            .copy_from_slice(&from[source + offset..source + offset + valid]);
                    }
                }
            }
        }
        Shared {
            prompt,
            prompt_length: self.prompt_length,
            own: Buffer::new(pool, dims, rows.len(), 1),
            own_length: 0,
            split: false,
        }
    }

    /// The graph's cache inputs in order — every layer's prompt keys, prompt values, own keys,
    /// own values — as (shape, data) of one layer each.
    pub(crate) fn inputs(&self) -> impl Iterator<Item = ([usize; 4], &[f32])> {
        self.prompt.layers().chain(self.own.layers())
    }

    /// Writes the keys and values of `new` positions (`[layers, batch, heads, new, head_dim]`
    /// each, as the graph returns them) after the valid ones, growing the buffer if needed.
    pub(crate) fn append(&mut self, pool: &mut Pool, new: usize, key: &[f32], value: &[f32]) {
        let (buffer, length) = if self.split {
            (&mut self.own, &mut self.own_length)
        } else {
            (&mut self.prompt, &mut self.prompt_length)
        };
        buffer.reserve(pool, *length, *length + new);
        buffer.write(*length, new, key, value);
        *length += new;
    }
}

/// An in-place cache buffer pair.
pub(crate) struct Buffer {
    /// Keys, `[layers, batch, heads, capacity, head_dim]`, row-major; positions after the valid
    /// ones hold stale values the graph masks out.
    key: Vec<f32>,
    /// Values, laid out as `key`.
    value: Vec<f32>,
    /// The shape's fixed parts.
    dims: Dims,
    /// Rows.
    batch: usize,
    /// Positions each (layer, row, head) holds room for.
    capacity: usize,
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
    /// Vectors kept: two buffers' keys and values, and a third's while one grows.
    const KEEP: usize = 6;

    /// A vector of `size` floats: the smallest spare one that holds it, else the largest (which
    /// grows).
    fn take(&mut self, size: usize) -> Vec<f32> {
        let room = |i: &usize| self.spare[*i].capacity();
        let fits = (0..self.spare.len())
            .filter(|i| room(i) >= size)
            .min_by_key(room);
        let chosen = fits.or_else(|| (0..self.spare.len()).max_by_key(room));
        let mut vector = chosen.map_or_else(Vec::new, |i| self.spare.swap_remove(i));
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

    /// Keeps the storage of a buffer that is done with.
    fn recycle_buffer(&mut self, buffer: Buffer) {
        self.give(buffer.key);
        self.give(buffer.value);
    }

    /// Keeps the storage of a cache that is done with.
    pub(crate) fn recycle(&mut self, cache: Cache) {
        if let Store::InPlace(shared) = cache.store {
            self.recycle_buffer(shared.prompt);
            self.recycle_buffer(shared.own);
        }
    }
}

impl Buffer {
    /// A buffer of `batch` rows with room for `capacity` positions (rounded up to [`GROWTH`]
    /// from 2 on; 1 stays 1, a placeholder), none valid.
    fn new(pool: &mut Pool, dims: Dims, batch: usize, capacity: usize) -> Buffer {
        let capacity = if capacity <= 1 {
            1
        } else {
            capacity.next_multiple_of(GROWTH)
        };
        let size = dims.layers * batch * dims.heads * capacity * dims.head_dim;
        Buffer {
            key: pool.take(size),
            value: pool.take(size),
            dims,
            batch,
            capacity,
        }
    }

    /// Every layer's keys, then every layer's values, with the shape the graph takes them in
    /// (layer `l` is the `l`-th chunk of `key` and of `value`).
    fn layers(&self) -> impl Iterator<Item = ([usize; 4], &[f32])> {
        let shape = [
            self.batch,
            self.dims.heads,
            self.capacity,
            self.dims.head_dim,
        ];
        let layer = shape.iter().product();
        let keys = self.key.chunks_exact(layer);
        keys.chain(self.value.chunks_exact(layer))
            .map(move |data| (shape, data))
    }

    /// Makes room for `needed` positions, keeping the first `length`.
    fn reserve(&mut self, pool: &mut Pool, length: usize, needed: usize) {
        if needed <= self.capacity {
            return;
        }
        let mut grown = Buffer::new(pool, self.dims, self.batch, needed.max(2));
        let head_dim = self.dims.head_dim;
        let keep = length * head_dim;
        let (old, new) = (self.capacity * head_dim, grown.capacity * head_dim);
        for (from, to) in [(&self.key, &mut grown.key), (&self.value, &mut grown.value)] {
            for (old_row, new_row) in from.chunks_exact(old).zip(to.chunks_exact_mut(new)) {
                new_row[..keep].copy_from_slice(&old_row[..keep]);
            }
        }
        pool.recycle_buffer(std::mem::replace(self, grown));
    }

    /// Writes `new` positions (`[layers, batch, heads, new, head_dim]` each) at positions
    /// `length..length + new`, which [`Buffer::reserve`] made room for.
    fn write(&mut self, length: usize, new: usize, key: &[f32], value: &[f32]) {
        let head_dim = self.dims.head_dim;
        let (row, width) = (self.capacity * head_dim, new * head_dim);
        let at = length * head_dim;
        for (to, from) in [(&mut self.key, key), (&mut self.value, value)] {
            for (to_row, from_row) in to.chunks_exact_mut(row).zip(from.chunks_exact(width)) {
                to_row[at..at + width].copy_from_slice(from_row);
            }
        }
    }

    /// Keys of (layer, row, head), the first `length` positions (tests).
    #[cfg(test)]
    fn keys(&self, layer: usize, row: usize, head: usize, length: usize) -> &[f32] {
        let (heads, head_dim) = (self.dims.heads, self.dims.head_dim);
        let start = ((layer * self.batch + row) * heads + head) * self.capacity * head_dim;
        &self.key[start..start + length * head_dim]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the graph would return for `new` positions from `first` on, for `rows` rows: every
    /// value names its layer, row, head, position and component.
    fn block(dims: Dims, rows: usize, first: usize, new: usize) -> Vec<f32> {
        let mut out = Vec::new();
        for l in 0..dims.layers {
            for r in 0..rows {
                for h in 0..dims.heads {
                    for p in first..first + new {
                        out.extend(expected(l, r, h, p..p + 1, dims.head_dim));
                    }
                }
            }
        }
        out
    }

    fn expected(
        l: usize,
        r: usize,
        h: usize,
        positions: std::ops::Range<usize>,
        head_dim: usize,
    ) -> Vec<f32> {
        positions
            .flat_map(|p| {
                (0..head_dim)
                    .map(move |d| (l * 10_000 + r * 1_000 + h * 100 + p) as f32 + d as f32 / 10.0)
            })
            .collect()
    }

    const SHAPE: Dims = Dims {
        layers: 2,
        heads: 3,
        head_dim: 4,
    };

    #[test]
    fn a_prompt_and_its_variations_keep_every_position() {
        // Storage a previous phrase left behind, full of stale values.
        let mut pool = Pool::default();
        pool.give(vec![f32::MAX; 10_000]);
        pool.give(vec![-1.0; 100_000]);
        // Two prompts (with and without style) of 50 positions, then 3 variations each.
        let mut cache = Shared::new(&mut pool, SHAPE, 2, 50);
        let prompt = block(SHAPE, 2, 0, 50);
        cache.append(&mut pool, 50, &prompt, &prompt);
        cache.split(&mut pool, 3);
        for step in 0..100 {
            let own = block(SHAPE, 6, step, 1);
            cache.append(&mut pool, 1, &own, &own);
        }
        assert_eq!((cache.prompt_length, cache.own_length), (50, 100));
        assert_eq!((cache.prompt.capacity, cache.own.capacity), (64, 128));
        for l in 0..2 {
            for h in 0..3 {
                for r in 0..2 {
                    assert_eq!(cache.prompt.keys(l, r, h, 50), expected(l, r, h, 0..50, 4));
                }
                for r in 0..6 {
                    assert_eq!(cache.own.keys(l, r, h, 100), expected(l, r, h, 0..100, 4));
                }
            }
        }
        assert_eq!(cache.own.key, cache.own.value);
        // The inputs: per layer prompt keys, prompt values, own keys, own values.
        let inputs: Vec<_> = cache.inputs().collect();
        assert_eq!(inputs.len(), 8);
        assert_eq!(inputs[0].0, [2, 3, 64, 4]);
        assert_eq!(inputs[7].0, [6, 3, 128, 4]);
        assert_eq!(&inputs[1].1[..4], &expected(1, 0, 0, 0..1, 4)[..]);
        // Grown-out storage went back to the pool and comes back for the next cache.
        pool.recycle(Cache {
            store: Store::InPlace(cache),
            length: 150,
        });
        assert!(pool.spare.len() <= Pool::KEEP);
        let again = Buffer::new(&mut pool, SHAPE, 6, 128);
        assert!(again.key.capacity() >= 2 * 6 * 3 * 128 * 4);
    }

    #[test]
    fn selected_rows_keep_their_prompt_positions() {
        let mut pool = Pool::default();
        pool.give(vec![f32::MAX; 100_000]);
        // Five styled prompts and their unstyled twin, 40 positions each.
        let mut all = Shared::new(&mut pool, SHAPE, 6, 40);
        let prompt = block(SHAPE, 6, 0, 40);
        all.append(&mut pool, 40, &prompt, &prompt);
        let chosen = all.select(&mut pool, &[3, 5]);
        assert_eq!((chosen.prompt_length, chosen.prompt.batch), (40, 2));
        for l in 0..2 {
            for h in 0..3 {
                assert_eq!(chosen.prompt.keys(l, 0, h, 40), expected(l, 3, h, 0..40, 4));
                assert_eq!(chosen.prompt.keys(l, 1, h, 40), expected(l, 5, h, 0..40, 4));
            }
        }
        assert_eq!(chosen.prompt.key, chosen.prompt.value);
        // It goes on like any prompt: split into variations that read it.
        let mut chosen = chosen;
        chosen.split(&mut pool, 2);
        let own = block(SHAPE, 4, 0, 1);
        chosen.append(&mut pool, 1, &own, &own);
        assert_eq!((chosen.prompt_length, chosen.own_length), (40, 1));
        assert_eq!(chosen.own.keys(1, 3, 2, 1), expected(1, 3, 2, 0..1, 4));
    }

    #[test]
    fn unsplit_rows_grow_their_prompt() {
        let mut pool = Pool::default();
        let mut cache = Shared::new(&mut pool, SHAPE, 1, 10);
        assert_eq!((cache.prompt.capacity, cache.own.capacity), (64, 1));
        for step in 0..70 {
            let new = block(SHAPE, 1, step, 1);
            cache.append(&mut pool, 1, &new, &new);
        }
        assert_eq!((cache.prompt_length, cache.own_length), (70, 0));
        assert_eq!(cache.prompt.capacity, 128);
        assert_eq!(cache.prompt.keys(1, 0, 2, 70), expected(1, 0, 2, 0..70, 4));
    }
}
