//! The one switch between rayon (feature `parallel`) and sequential work (WebAssembly, or a
//! caller that wants one thread): every parallel loop in the crate goes through here.

/// Worker threads a batch can use.
pub(crate) fn threads() -> usize {
    #[cfg(feature = "parallel")]
    {
        rayon::current_num_threads().max(1)
    }
    #[cfg(not(feature = "parallel"))]
    {
        1
    }
}

/// Runs `a` and `b`, in parallel when possible.
#[cfg(feature = "parallel")]
pub(crate) fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    rayon::join(a, b)
}

/// Runs `a` and `b`, in parallel when possible.
#[cfg(not(feature = "parallel"))]
pub(crate) fn join<A, B>(a: impl FnOnce() -> A, b: impl FnOnce() -> B) -> (A, B) {
    (a(), b())
}

/// `f` over each item, results in input order.
#[cfg(feature = "parallel")]
pub(crate) fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    use rayon::prelude::*;
    items.par_iter().map(f).collect()
}

/// `f` over each item, results in input order.
#[cfg(not(feature = "parallel"))]
pub(crate) fn map<T, R>(items: &[T], f: impl Fn(&T) -> R) -> Vec<R> {
    items.iter().map(f).collect()
}

/// `f` over each item with its index, mutably, results in input order.
#[cfg(feature = "parallel")]
pub(crate) fn map_mut<T: Send, R: Send>(
    items: &mut [T],
    f: impl Fn(usize, &mut T) -> R + Sync + Send,
) -> Vec<R> {
    use rayon::prelude::*;
    items
        .par_iter_mut()
        .enumerate()
        .map(|(i, x)| f(i, x))
        .collect()
}

/// `f` over each item with its index, mutably, results in input order.
#[cfg(not(feature = "parallel"))]
pub(crate) fn map_mut<T, R>(items: &mut [T], f: impl Fn(usize, &mut T) -> R) -> Vec<R> {
    items.iter_mut().enumerate().map(|(i, x)| f(i, x)).collect()
}
