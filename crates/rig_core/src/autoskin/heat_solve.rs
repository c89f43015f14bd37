//! One joint's bone-heat system over its region: the surface operator `L + diag(heat)`
//! restricted to the region's vertices (`w = 0` outside), factorised by sparse Cholesky (faer).
//!
//! The elimination order is computed once per surface (approximate minimum degree over the whole
//! welded surface) and each region eliminates its vertices in that order, so no region pays for
//! its own ordering. The rest of the analysis depends only on the region: a re-skin that leaves a
//! joint's region as it was reuses it and only refactorises the values.

use std::sync::Arc;

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::perm::PermRef;
use faer::sparse::linalg::cholesky::{factorize_symbolic_cholesky, SymbolicCholesky, SymmetricOrdering};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Side};

use super::heat::HeatSurface;

/// Relative amount added to each diagonal: far below the weights' precision, enough for a
/// factorisation of a connected piece that no bone heats (a Laplacian alone is singular).
const RIDGE: f64 = 1e-9;

/// A region's symbolic factorisation.
pub type Analysis = Arc<SymbolicCholesky<u32>>;

/// The lower triangle of a region's matrix in compressed columns.
pub struct RegionMatrix {
    col_ptr: Vec<u32>,
    row_idx: Vec<u32>,
    values: Vec<f64>,
}

/// Elimination rank of each welded vertex in one fill-reducing order of the whole surface, or
/// `None` if the ordering failed (then each region is ordered on its own).
pub fn surface_order(surface: &HeatSurface) -> Option<Vec<u32>> {
    let all: Vec<u32> = (0..surface.len() as u32).collect();
    let matrix = RegionMatrix::new(surface, &vec![0.0; surface.len()], &all);
    let symbolic = factorize_symbolic_cholesky(matrix.pattern(), Side::Lower, SymmetricOrdering::Amd, Default::default()).ok()?;
    // The inverse permutation maps a vertex to its position in the order.
    Some(symbolic.perm()?.arrays().1.to_vec())
}

impl RegionMatrix {
    /// `region`: welded vertices, ascending.
    pub fn new(surface: &HeatSurface, heat: &[f32], region: &[u32]) -> RegionMatrix {
        let mut local = vec![u32::MAX; surface.len()];
        region.iter().enumerate().for_each(|(i, &v)| local[v as usize] = i as u32);
        let mut col_ptr = Vec::with_capacity(region.len() + 1);
        let mut row_idx = Vec::with_capacity(region.len() * 4);
        let mut values = Vec::with_capacity(region.len() * 4);
        col_ptr.push(0);
        for (i, &v) in region.iter().enumerate() {
            // A vertex with neither heat nor a non-zero edge (every angle facing it obtuse,
            // clamped) has an empty row: a unit diagonal makes it solve to its source's heat.
            // The ridge keeps a piece without heat inside the region definite (it solves to 0).
            // The degree is summed in f64 from the same weights as the off-diagonals, so that
            // the ridge is not lost to rounding.
            let degree: f64 = surface.row(v as usize).map(|(_, w)| w as f64).sum();
            let diagonal = match degree + heat[v as usize] as f64 {
                d if d > 0.0 && d.is_finite() => d * (1.0 + RIDGE),
                _ => 1.0,
            };
            row_idx.push(i as u32);
            values.push(diagonal);
            // Neighbours are sorted by vertex, and `local` keeps the region's order.
            for (u, w) in surface.row(v as usize) {
                let l = local[u];
                if l != u32::MAX && l as usize > i {
                    row_idx.push(l);
                    values.push(-(w as f64));
                }
            }
            col_ptr.push(row_idx.len() as u32);
        }
        RegionMatrix { col_ptr, row_idx, values }
    }

    fn len(&self) -> usize {
        self.col_ptr.len() - 1
    }

    fn pattern(&self) -> SymbolicSparseColMatRef<'_, u32> {
        SymbolicSparseColMatRef::new_checked(self.len(), self.len(), &self.col_ptr, None, &self.row_idx)
    }

    /// The region's analysis, eliminating its vertices (`region`, as given to [`Self::new`]) in
    /// the surface's `order` when there is one.
    pub fn analyse(&self, region: &[u32], order: Option<&[u32]>) -> Option<Analysis> {
        let ordering = order.map(|rank| {
            let mut forward: Vec<u32> = (0..region.len() as u32).collect();
            forward.sort_unstable_by_key(|&i| rank[region[i as usize] as usize]);
            let mut inverse = vec![0u32; region.len()];
            forward.iter().enumerate().for_each(|(k, &i)| inverse[i as usize] = k as u32);
            (forward, inverse)
        });
        let ordering = match &ordering {
            Some((forward, inverse)) => SymmetricOrdering::Custom(PermRef::new_checked(forward, inverse, region.len())),
            None => SymmetricOrdering::Amd,
        };
        factorize_symbolic_cholesky(self.pattern(), Side::Lower, ordering, Default::default()).ok().map(Arc::new)
    }

    /// Solves for `b` with `analysis` (from [`Self::analyse`] on a region of the same vertices).
    /// `None` when the matrix is not positive definite.
    pub fn solve(&self, mut b: Vec<f64>, analysis: &SymbolicCholesky<u32>) -> Option<Vec<f64>> {
        let n = b.len();
        if n == 0 {
            return Some(b);
        }
        // Joints are solved in parallel with each other; each factorisation runs on one thread.
        let par = faer::Par::Seq;
        let mut factor = vec![0f64; analysis.len_val()];
        let mut scratch = MemBuffer::try_new(analysis.factorize_numeric_llt_scratch::<f64>(par, Default::default())).ok()?;
        let matrix = SparseColMatRef::new(self.pattern(), &self.values);
        let llt = analysis
            .factorize_numeric_llt(
                &mut factor,
                matrix,
                Side::Lower,
                Default::default(),
                par,
                MemStack::new(&mut scratch),
                Default::default(),
            )
            .ok()?;
        let mut scratch = MemBuffer::try_new(analysis.solve_in_place_scratch::<f64>(1, par)).ok()?;
        llt.solve_in_place_with_conj(Conj::No, MatMut::from_column_major_slice_mut(&mut b, n, 1), par, MemStack::new(&mut scratch));
        b.iter().all(|x| x.is_finite()).then_some(b)
    }
}
