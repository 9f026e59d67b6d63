//! Threaded element-wise loops: rticket's patch (see vendor/README.md). Burn-flex threads its
//! matrix products and reductions but runs unary, scalar and binary element-wise ops on one
//! thread; above `PAR_MIN` elements these helpers split the loop over rayon's pool, in chunks,
//! each element computed by the same closure as before (results are bit-identical).

#[cfg(feature = "rayon")]
use rayon::prelude::*;

/// Below this many elements the loop stays on the calling thread (rayon's dispatch costs more).
#[cfg(feature = "rayon")]
const PAR_MIN: usize = 1 << 15;
/// Elements per task.
#[cfg(feature = "rayon")]
const CHUNK: usize = 1 << 13;

/// `xs[i] = f(xs[i])`.
pub(crate) fn map_inplace<E, F>(xs: &mut [E], f: F)
where
    E: Copy + Send + Sync,
    F: Fn(E) -> E + Send + Sync,
{
    #[cfg(feature = "rayon")]
    if xs.len() >= PAR_MIN {
        xs.par_chunks_mut(CHUNK).for_each(|c| c.iter_mut().for_each(|x| *x = f(*x)));
        return;
    }
    xs.iter_mut().for_each(|x| *x = f(*x));
}

/// `f` of each element, in order.
pub(crate) fn map<E, R, F>(xs: &[E], f: F) -> Vec<R>
where
    E: Copy + Send + Sync,
    R: Send,
    F: Fn(E) -> R + Send + Sync,
{
    #[cfg(feature = "rayon")]
    if xs.len() >= PAR_MIN {
        return xs.par_iter().with_min_len(CHUNK).map(|&x| f(x)).collect();
    }
    xs.iter().map(|&x| f(x)).collect()
}

/// `dst[i] = f(dst[i], src[i])` over the shorter of the two.
pub(crate) fn zip_inplace<E, F>(dst: &mut [E], src: &[E], f: F)
where
    E: Copy + Send + Sync,
    F: Fn(E, E) -> E + Send + Sync,
{
    let n = dst.len().min(src.len());
    let (dst, src) = (&mut dst[..n], &src[..n]);
    #[cfg(feature = "rayon")]
    if n >= PAR_MIN {
        dst.par_chunks_mut(CHUNK).zip(src.par_chunks(CHUNK)).for_each(|(d, s)| d.iter_mut().zip(s).for_each(|(d, &s)| *d = f(*d, s)));
        return;
    }
    dst.iter_mut().zip(src).for_each(|(d, &s)| *d = f(*d, s));
}

/// `f(a[i], b[i])`, in order.
pub(crate) fn zip_map<E, R, F>(a: &[E], b: &[E], f: F) -> Vec<R>
where
    E: Copy + Send + Sync,
    R: Send,
    F: Fn(E, E) -> R + Send + Sync,
{
    #[cfg(feature = "rayon")]
    if a.len().min(b.len()) >= PAR_MIN {
        return a.par_iter().zip(b.par_iter()).with_min_len(CHUNK).map(|(&x, &y)| f(x, y)).collect();
    }
    a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect()
}

/// A slice kernel (`kernel(dst, src)`, e.g. a SIMD add) applied chunk by chunk in parallel.
pub(crate) fn chunked<E, K>(dst: &mut [E], src: &[E], kernel: K)
where
    E: Send + Sync,
    K: Fn(&mut [E], &[E]) + Send + Sync,
{
    #[cfg(feature = "rayon")]
    if dst.len() >= PAR_MIN && dst.len() == src.len() {
        dst.par_chunks_mut(CHUNK).zip(src.par_chunks(CHUNK)).for_each(|(d, s)| kernel(d, s));
        return;
    }
    kernel(dst, src)
}
