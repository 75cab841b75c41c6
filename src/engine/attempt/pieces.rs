//! Cutting a file into pieces for `--split`: the holes a resumed download still has, pieces
//! of at least `MIN_PIECE` planned over them, and what the pieces have on disk. Pure
//! arithmetic on byte ranges `[start, end)`.

/// Pieces are never cut smaller than this (so files under twice this size use one connection).
pub(super) const MIN_PIECE: u64 = 4 << 20;

/// Whether a file of `total` bytes is large enough to be cut into pieces.
pub(in crate::engine) fn worth_splitting(total: u64) -> bool {
    total >= 2 * MIN_PIECE
}

/// One connection's piece: bytes `[start, end)`, of which `[start, written)` are on disk and
/// `[written, next)` are being written. `owned` once a connection has taken it (a resumed
/// download can have more holes than connections).
#[derive(Debug, Clone, Copy)]
pub(super) struct Piece {
    pub start: u64,
    pub written: u64,
    pub next: u64,
    pub end: u64,
    pub owned: bool,
}

/// The holes of `[0, total)` not covered by `done`, in order.
pub(super) fn holes(done: &[[u64; 2]], total: u64) -> Vec<[u64; 2]> {
    let mut covered: Vec<[u64; 2]> = done.iter().copied().filter(|[a, b]| a < b).collect();
    covered.sort_unstable();
    let mut holes = Vec::new();
    let mut at = 0;
    for [a, b] in covered {
        if a > at {
            holes.push([at, a.min(total)]);
        }
        at = at.max(b);
    }
    if at < total {
        holes.push([at, total]);
    }
    holes
}

/// Where the first missing byte is (the total when nothing is missing).
pub(in crate::engine) fn first_hole(done: &[[u64; 2]], total: u64) -> u64 {
    holes(done, total).first().map_or(total, |h| h[0])
}

/// Cuts the holes into at most `connections` pieces, halving the largest while both halves
/// stay at least `MIN_PIECE`.
pub(super) fn plan_pieces(holes: &[[u64; 2]], connections: usize) -> Vec<[u64; 2]> {
    let mut pieces = holes.to_vec();
    while pieces.len() < connections {
        let Some((i, &[a, b])) = pieces.iter().enumerate().max_by_key(|(_, [a, b])| b - a) else {
            break;
        };
        if b - a < 2 * MIN_PIECE {
            break;
        }
        let mid = a + (b - a) / 2;
        pieces[i] = [a, mid];
        pieces.insert(i + 1, [mid, b]);
    }
    pieces
}

/// Merges the done ranges with what the pieces have on disk.
pub(super) fn done_ranges(before: &[[u64; 2]], pieces: &[Piece]) -> Vec<[u64; 2]> {
    let mut all: Vec<[u64; 2]> = before.to_vec();
    all.extend(
        pieces
            .iter()
            .filter(|p| p.written > p.start)
            .map(|p| [p.start, p.written]),
    );
    all.sort_unstable();
    let mut merged: Vec<[u64; 2]> = Vec::with_capacity(all.len());
    for [a, b] in all {
        match merged.last_mut() {
            Some(last) if a <= last[1] => last[1] = last[1].max(b),
            _ => merged.push([a, b]),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_and_pieces() {
        assert_eq!(holes(&[], 100), vec![[0, 100]]);
        assert_eq!(
            holes(&[[0, 10], [20, 30], [25, 40]], 100),
            vec![[10, 20], [40, 100]]
        );
        assert_eq!(holes(&[[0, 100]], 100), Vec::<[u64; 2]>::new());
        let total = 64 * MIN_PIECE;
        let pieces = plan_pieces(&[[0, total]], 8);
        assert_eq!(pieces.len(), 8);
        assert_eq!(pieces.first().unwrap()[0], 0);
        assert_eq!(pieces.last().unwrap()[1], total);
        assert!(pieces.windows(2).all(|w| w[0][1] == w[1][0]));
        // Small holes are not cut below the minimum piece size.
        assert_eq!(plan_pieces(&[[0, 2 * MIN_PIECE - 1]], 8).len(), 1);
        assert_eq!(plan_pieces(&[[0, 3 * MIN_PIECE]], 8).len(), 2);
    }

    #[test]
    fn done_ranges_merge() {
        let pieces = [
            Piece {
                start: 10,
                written: 15,
                next: 18,
                end: 20,
                owned: true,
            },
            Piece {
                start: 20,
                written: 20,
                next: 20,
                end: 30,
                owned: true,
            },
            Piece {
                start: 30,
                written: 40,
                next: 40,
                end: 40,
                owned: true,
            },
        ];
        assert_eq!(done_ranges(&[[0, 10]], &pieces), vec![[0, 15], [30, 40]]);
    }
}
