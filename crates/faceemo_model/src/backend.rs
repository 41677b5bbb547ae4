//! Choosing where the model runs: a GPU through wgpu, or Burn's Flex CPU backend.
//!
//! `auto` takes a real GPU adapter when wgpu finds one and the CPU otherwise — including
//! when the only adapter is a software one (Mesa's lavapipe), which is ~45× slower than
//! Flex. `wgpu` insists on wgpu (lavapipe included: that is how CI tests the GPU code
//! path). The backend in use is always described, adapter name included.

use std::sync::OnceLock;

use burn::tensor::Device;
use burn::tensor::wgpu::wgpu;

use crate::ModelError;

/// What the user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BackendChoice {
    /// A hardware GPU if there is one, else the CPU.
    #[default]
    Auto,
    /// wgpu, whatever its adapter (a software one too).
    Wgpu,
    /// Burn's Flex CPU backend.
    Cpu,
}

impl std::str::FromStr for BackendChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "wgpu" | "gpu" => Ok(Self::Wgpu),
            "cpu" | "flex" => Ok(Self::Cpu),
            other => Err(format!("unknown backend {other:?}: use auto, wgpu or cpu")),
        }
    }
}

/// What kind of device the model runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// Burn's Flex CPU backend.
    Cpu,
    /// wgpu on a hardware adapter.
    Gpu,
    /// wgpu on a software adapter (lavapipe, llvmpipe).
    SoftwareGpu,
}

/// A device chosen for the model, with a description for the user.
#[derive(Clone, Debug)]
pub struct Backend {
    /// The Burn device.
    pub device: Device,
    /// What it is.
    pub kind: BackendKind,
    /// E.g. `"wgpu: NVIDIA H200 (DiscreteGpu, Vulkan)"` or `"CPU (Burn Flex)"`.
    pub description: String,
}

/// The wgpu adapter found in this process (wgpu initialises once per process).
struct WgpuAdapter {
    device: Device,
    info: wgpu::AdapterInfo,
}

fn wgpu_adapter() -> &'static Result<WgpuAdapter, String> {
    static ADAPTER: OnceLock<Result<WgpuAdapter, String>> = OnceLock::new();
    ADAPTER.get_or_init(|| {
        Device::wgpu_options()
            .init_with_setup()
            .map(|(device, setup)| WgpuAdapter {
                device,
                info: setup.adapter.get_info(),
            })
            .map_err(|e| e.to_string())
    })
}

fn describe_adapter(info: &wgpu::AdapterInfo) -> String {
    format!(
        "wgpu: {} ({:?}, {:?})",
        info.name, info.device_type, info.backend
    )
}

/// The CPU backend.
pub fn cpu_backend() -> Backend {
    Backend {
        device: Device::flex(),
        kind: BackendKind::Cpu,
        description: format!(
            "CPU (Burn Flex, {} threads)",
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        ),
    }
}

/// Picks the backend for a choice.
pub fn select_backend(choice: BackendChoice) -> Result<Backend, ModelError> {
    if choice == BackendChoice::Cpu {
        return Ok(cpu_backend());
    }
    match (wgpu_adapter(), choice) {
        (Ok(adapter), BackendChoice::Wgpu) => Ok(Backend {
            device: adapter.device.clone(),
            kind: if adapter.info.device_type == wgpu::DeviceType::Cpu {
                BackendKind::SoftwareGpu
            } else {
                BackendKind::Gpu
            },
            description: describe_adapter(&adapter.info),
        }),
        (Ok(adapter), _) if adapter.info.device_type == wgpu::DeviceType::Cpu => {
            let mut cpu = cpu_backend();
            cpu.description = format!(
                "{}; the only wgpu adapter, {}, is a software renderer, so the CPU is faster",
                cpu.description, adapter.info.name
            );
            Ok(cpu)
        }
        (Ok(adapter), _) => Ok(Backend {
            device: adapter.device.clone(),
            kind: BackendKind::Gpu,
            description: describe_adapter(&adapter.info),
        }),
        (Err(reason), BackendChoice::Wgpu) => Err(ModelError::Backend {
            reason: format!("no wgpu adapter: {reason}"),
        }),
        (Err(reason), _) => {
            let mut cpu = cpu_backend();
            cpu.description = format!("{}; no GPU adapter ({reason})", cpu.description);
            Ok(cpu)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_case_insensitively() {
        assert_eq!("AUTO".parse(), Ok(BackendChoice::Auto));
        assert_eq!("wgpu".parse(), Ok(BackendChoice::Wgpu));
        assert_eq!("cpu".parse(), Ok(BackendChoice::Cpu));
        assert!("cuda".parse::<BackendChoice>().is_err());
    }

    #[test]
    fn auto_never_picks_a_software_adapter() {
        let backend = select_backend(BackendChoice::Auto).expect("auto always has a backend");
        assert_ne!(
            backend.kind,
            BackendKind::SoftwareGpu,
            "{}",
            backend.description
        );
    }
}
