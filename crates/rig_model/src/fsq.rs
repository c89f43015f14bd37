//! Finite scalar quantisation (Mentzer et al. 2023, as used by SkinTokens): each latent
//! dimension is squashed into `levels[i]` evenly spaced values and rounded; a token is the
//! mixed-radix number of one group of dimensions. Gradients pass the rounding unchanged
//! (straight-through).

use burn::prelude::*;
use burn::tensor::activation::sigmoid;

/// Levels per dimension of one token; the codebook size is their product.
pub fn codebook_size(levels: &[usize]) -> usize {
    levels.iter().product()
}

/// Quantises `x` of shape `[batch, tokens * levels.len()]`: returns values in [-1, 1] of the
/// same shape (the decoder's input) with straight-through gradients.
pub fn quantize<B: Backend>(x: Tensor<B, 2>, levels: &[usize]) -> Tensor<B, 2> {
    let [batch, width] = x.dims();
    let span = level_spans::<B>(levels, width, &x.device());
    let span = span.reshape([1, width]).expand([batch, width]);
    let z = sigmoid(x) * span.clone();
    let q = z.clone().round();
    let z = z.clone() + (q - z).detach();
    z / span * 2.0 - 1.0
}

/// `levels[i] - 1` repeated over the tokens, as a `[width]` tensor.
fn level_spans<B: Backend>(levels: &[usize], width: usize, device: &B::Device) -> Tensor<B, 1> {
    let spans: Vec<f32> = (0..width).map(|i| (levels[i % levels.len()] - 1) as f32).collect();
    Tensor::from_data(TensorData::new(spans, [width]), device)
}

/// Token ids from quantised values (`quantize`'s output for one item, `tokens * levels.len()`
/// numbers in [-1, 1]).
pub fn token_ids(values: &[f32], levels: &[usize]) -> Vec<u32> {
    values
        .chunks(levels.len())
        .map(|dims| {
            dims.iter().zip(levels).fold(0u32, |id, (&v, &l)| {
                let q = (((v + 1.0) * 0.5 * (l - 1) as f32).round() as i64).clamp(0, l as i64 - 1) as u32;
                id * l as u32 + q
            })
        })
        .collect()
}

/// The decoder's input values for token ids (inverse of [`token_ids`]).
pub fn token_values(ids: &[u32], levels: &[usize]) -> Vec<f32> {
    let mut out = Vec::with_capacity(ids.len() * levels.len());
    for &id in ids {
        let mut rest = id;
        let mut dims = vec![0.0; levels.len()];
        for (i, &l) in levels.iter().enumerate().rev() {
            let q = rest % l as u32;
            rest /= l as u32;
            dims[i] = q as f32 / (l - 1) as f32 * 2.0 - 1.0;
        }
        out.extend(dims);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;

    #[test]
    fn ids_and_values_round_trip_over_the_whole_codebook() {
        let levels = [8, 5, 3];
        let ids: Vec<u32> = (0..codebook_size(&levels) as u32).collect();
        assert_eq!(token_ids(&token_values(&ids, &levels), &levels), ids);
    }

    #[test]
    fn quantized_values_sit_on_the_levels() {
        let device = Default::default();
        let levels = [8, 5];
        let x = Tensor::<NdArray, 2>::from_data(TensorData::new(vec![-3.0f32, 0.1, 0.7, 9.0], [2, 2]), &device);
        let q: Vec<f32> = quantize(x, &levels).into_data().to_vec().expect("f32 tensor");
        for (i, v) in q.iter().enumerate() {
            let l = levels[i % 2] as f32 - 1.0;
            let step = (v + 1.0) * 0.5 * l;
            assert!((step - step.round()).abs() < 1e-5, "value {v} is not on a level");
        }
        assert_eq!(token_ids(&q, &levels).len(), 2);
    }
}
