// urine — the umbrella module: `import urine;` brings every part of the library.
export module urine;

export import urine.abi;
export import urine.ring;
export import urine.ops;
export import urine.registration;
export import urine.async;
