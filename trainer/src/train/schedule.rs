//! Learning rate: linear warm-up over a fraction of the steps, then linear decay to zero
//! (HF's `get_linear_schedule_with_warmup`, what the reference code uses).

/// A warm-up/decay schedule over a known number of optimiser steps.
#[derive(Debug, Clone, Copy)]
pub struct LinearSchedule {
    pub peak: f64,
    pub warmup_steps: usize,
    pub total_steps: usize,
}

impl LinearSchedule {
    pub fn new(peak: f64, warmup_ratio: f64, total_steps: usize) -> Self {
        let warmup_steps = (total_steps as f64 * warmup_ratio).round() as usize;
        Self { peak, warmup_steps, total_steps }
    }

    /// The rate for 0-based `step`.
    pub fn at(&self, step: usize) -> f64 {
        if step < self.warmup_steps {
            self.peak * (step + 1) as f64 / self.warmup_steps as f64
        } else {
            let left = self.total_steps.saturating_sub(step) as f64;
            let span = (self.total_steps - self.warmup_steps).max(1) as f64;
            self.peak * (left / span).max(0.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_then_decays_to_zero() {
        let s = LinearSchedule::new(1.0, 0.1, 100);
        assert_eq!(s.warmup_steps, 10);
        assert!((s.at(0) - 0.1).abs() < 1e-12);
        assert!((s.at(9) - 1.0).abs() < 1e-12);
        assert!((s.at(10) - 1.0).abs() < 1e-12);
        assert!((s.at(55) - 0.5).abs() < 1e-12);
        assert!(s.at(99) > 0.0 && s.at(100) == 0.0);
    }
}
