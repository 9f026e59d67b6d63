//! The CPU backend's element-wise ops, which vendor/burn-flex threads above 32k elements, give
//! the very bits the one-thread loop gives, in order: each op on 100k elements equals the same
//! op on 10k-element pieces (below the threshold), in place (unique operands) and into a new
//! buffer (shared or offset operands).

use burn::tensor::{Device, Tensor, TensorData};

const N: usize = 100_003;
/// Elements per piece of the reference: below the 32k threshold, so one thread computes it.
const PIECE: usize = 10_000;

/// Values spanning signs and magnitudes.
fn values(salt: u32) -> Vec<f32> {
    (0..N as u32).map(|i| ((i.wrapping_mul(2654435761) ^ salt) % 20_011) as f32 / 1000.0 - 10.0).collect()
}

fn tensor(v: &[f32]) -> Tensor<1> {
    Tensor::<1>::from_data(TensorData::new(v.to_vec(), [v.len()]), &Device::flex())
}

fn host(t: Tensor<1>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap()
}

type Op = fn(Tensor<1>, Tensor<1>) -> Tensor<1>;

/// `op` on the whole of `a` and `b`, with the operands unique (in place) or also held
/// elsewhere (`shared`: a new buffer), and bit for bit against `op` piece by piece.
fn check(name: &str, op: Op, a: &[f32], b: &[f32], shared: bool) {
    let (ta, tb) = (tensor(a), tensor(b));
    let kept = shared.then(|| (ta.clone(), tb.clone()));
    let got = host(op(ta, tb));
    drop(kept);
    let want: Vec<f32> = (0..a.len()).step_by(PIECE).flat_map(|s| host(op(tensor(&a[s..(s + PIECE).min(a.len())]), tensor(&b[s..(s + PIECE).min(b.len())])))).collect();
    assert_eq!(got.len(), want.len(), "{name}: length");
    if let Some(i) = (0..got.len()).find(|&i| got[i].to_bits() != want[i].to_bits()) {
        panic!("{name} (shared operands: {shared}): element {i} of {} is {} whole, {} by pieces", got.len(), got[i], want[i]);
    }
}

#[test]
fn threaded_element_wise_ops_equal_the_one_thread_results_bit_for_bit() {
    let (a, b) = (values(0), values(0x5bd1e995));
    let ops: [(&str, Op); 8] = [
        ("exp", |x, _| x.exp()),
        ("tanh", |x, _| x.tanh()),
        ("erf", |x, _| x.erf()),
        ("mul_scalar", |x, _| x.mul_scalar(0.37)),
        ("add", |x, y| x + y),
        ("div", |x, y| x / y),
        ("sub", |x, y| x - y),
        ("powf", |x, y| x.abs().powf(y.clamp(-2.0, 2.0))),
    ];
    for (name, op) in ops {
        for shared in [false, true] {
            check(name, op, &a, &b, shared);
        }
    }
    // An offset view (a slice not starting at 0) takes the allocating path too.
    let tail = host(tensor(&a).slice([1..N]).exp());
    let whole = host(tensor(&a).exp());
    assert!(tail.iter().zip(&whole[1..]).all(|(x, y)| x.to_bits() == y.to_bits()), "exp of an offset view");
}
