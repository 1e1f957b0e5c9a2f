/**
 * The spec's `stac` section: how the batch's STAC Collection is described, and the STAC API it
 * is pushed to, if any. Writing `collection.json` and the items next to the results needs no
 * setting; it is on for every batch.
 */
import { z } from 'zod';

/** Collection ids go into URLs (`/collections/{id}`), so the alphabet is the one of batch ids. */
const collectionId = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" or "-" (no spaces or slashes)');

const apiUrl = z
  .string()
  .url('expected the STAC API landing page, such as https://stac.example.org/api')
  .refine((u) => /^https?:\/\//.test(u), 'the URL must start with http:// or https://');

export const stacSchema = z.strictObject({
  /** Id of the Collection (in `collection.json`, every Item and the STAC API). @default the batch id */
  collectionId: collectionId.optional(),
  /** The Collection's title; the Collection has none when it is left out. */
  title: z.string().min(1).max(200).optional(),
  /** The Collection's description. @default a sentence naming the batch and saying there is one item per tile */
  description: z.string().min(1).max(4_000).optional(),
  /** SPDX license id or expression, or `other`. @default "other" */
  license: z.string().min(1).max(200).optional(),
  /**
   * A STAC API with the Transactions extension: the Collection and every Item are created or
   * updated there as tiles finish. Credentials, if the API needs any, come from the worker's
   * environment (`STAC_API_TOKEN`), never from the spec.
   */
  api: z
    .strictObject({
      /** The STAC API's landing page, e.g. https://stac.example.org/api. */
      url: apiUrl,
      /** The Collection's id in the API. @default `stac.collectionId`, else the batch id */
      collectionId: collectionId.optional(),
    })
    .optional(),
});

export type StacSpec = z.output<typeof stacSchema>;
